import { EMBEDDING_DIMENSIONS, type Embedder } from '@/lib/rag/embedder'

// Words that carry no topic; dropping them keeps vectors about content.
const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'may more most of on or our over so such than that the their them then there these they this those to ' +
    'up was we were what when where which while who why will with would you your about after all also any ' +
    'because before both each few just no not only other own same some too very'
  ).split(' '),
)

const SUFFIXES = [
  'ations',
  'ation',
  'ingly',
  'ings',
  'ing',
  'ness',
  'ments',
  'ment',
  'ities',
  'ity',
  'ies',
  'ied',
  'ed',
  'es',
  'ly',
  's',
  'e',
]

/** A light suffix stripper: enough that "voicing", "voiced" and "voice" meet. */
function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 3 && word.endsWith(suffix)) return word.slice(0, -suffix.length)
  }
  return word
}

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((w) => w.length > 1 && !STOPWORDS.has(w))
    .map(stem)
}

/** FNV-1a, 32 bit. */
function hash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The offline embedder: deterministic feature hashing into 1536 dimensions, no model files.
 * Features are stemmed words, word pairs and character trigrams (so related word forms share
 * weight), each hashed to a dimension with a hashed sign, then L2-normalized. It captures
 * shared vocabulary, not meaning: good enough that related wording lands near, and honest
 * about being local (`model: local-hash-v1`).
 */
export class LocalEmbedder implements Embedder {
  readonly provider = 'local'
  readonly model = 'local-hash-v1'
  readonly defaultThreshold = 0.2

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.embedOne(text))
  }

  embedOne(text: string): number[] {
    const vector = new Float64Array(EMBEDDING_DIMENSIONS)
    const add = (feature: string, weight: number) => {
      const h = hash(feature)
      vector[h % EMBEDDING_DIMENSIONS] =
        (vector[h % EMBEDDING_DIMENSIONS] ?? 0) + (h & 0x80000000 ? -weight : weight)
    }
    const tokens = tokenize(text)
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] ?? ''
      add(`w:${token}`, 1)
      if (i > 0) add(`b:${tokens[i - 1]}_${token}`, 0.5)
      const padded = `#${token}#`
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25)
    }
    let norm = 0
    for (const value of vector) norm += value * value
    if (norm === 0) {
      // Nothing to go on (empty or all stopwords): a fixed unit vector, far from real text.
      vector[0] = 1
      return Array.from(vector)
    }
    const scale = 1 / Math.sqrt(norm)
    return Array.from(vector, (value) => value * scale)
  }

  health() {
    return {}
  }
}
