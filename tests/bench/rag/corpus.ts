import { seeded } from '@tests/bench/stats'
import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'
import { EMBEDDING_DIMENSIONS, type Embedder } from '@/lib/rag/embedder'

/**
 * The two benchmark corpora of `bun run bench rag`, both deterministic (seeded), both with text
 * drawn per topic from one synthetic vocabulary:
 * - `local-hash`: vectors from the offline embedder (feature hashing of that text). Sparse,
 *   with many equal distances: recall against an exact scan is only defined with a tie rule.
 * - `dense`: vectors that behave like real embeddings — dense, unit length, clustered: a seeded
 *   Gaussian mixture around topic centres. Each topic also has a few principal directions of
 *   its own (decaying scales), so neighbours within a topic are ordered by a low-dimensional
 *   structure plus isotropic noise, as real sentence embeddings are (their intrinsic dimension
 *   is far below 1536), instead of being all equally far apart.
 */
export type CorpusKind = 'local-hash' | 'dense'

export const TOPICS = 300
const SYLLABLES = 'ta ko ri mu sel van dor pli qua ne bro fen gal hu jin lo'.split(' ')

/**
 * The synthetic text of the original bench, kept as it was so figures stay comparable: the
 * vocabulary comes from a fixed generator; chunks continue that generator (as they always did),
 * queries and extra ingest batches take their own seeded streams, so they are the same whether
 * or not the corpus was generated in this process (a reused data directory).
 */
function lcg(seed: number) {
  let state = seed
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0
    return state / 2 ** 32
  }
}

function vocabularyAndStream() {
  const random = lcg(42)
  const vocabulary = Array.from({ length: 3_000 }, () =>
    Array.from(
      { length: 2 + Math.floor(random() * 3) },
      () => SYLLABLES[Math.floor(random() * SYLLABLES.length)],
    ).join(''),
  )
  return { vocabulary, random }
}

// Like real text, chunks cluster by topic: each topic draws most words from its own slice of
// the vocabulary and the rest from the shared, skewed whole.
function sentence(vocabulary: string[], random: () => number, words: number, topic: number): string {
  return Array.from({ length: words }, () =>
    random() < 0.6
      ? vocabulary[(topic * 10 + Math.floor(random() * 10)) % vocabulary.length]
      : vocabulary[Math.floor(random() ** 1.5 * vocabulary.length)],
  ).join(' ')
}

/** Principal directions per topic and their scales (the dense corpus's shape). */
const DIRECTIONS = 12
const scaleOf = (i: number) => 0.5 / Math.sqrt(i + 1)
/** Standard deviation per dimension of the isotropic part (total norm² ≈ 0.3). */
const NOISE = Math.sqrt(0.3 / EMBEDDING_DIMENSIONS)
/** Weight of one direction every vector shares (real embedding spaces are anisotropic). */
const SHARED = 0.3

function gaussian(random: () => number): () => number {
  let spare: number | null = null
  return () => {
    if (spare !== null) {
      const value = spare
      spare = null
      return value
    }
    const u = random() || 1e-12
    const v = random()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
}

function unit(vector: Float64Array): Float64Array {
  let norm = 0
  for (const x of vector) norm += x * x
  const scale = 1 / Math.sqrt(norm)
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * scale
  return vector
}

/** The Gaussian mixture: topic centres, their principal directions, and one sampler. */
function mixture(seed: number) {
  const normal = gaussian(seeded(seed))
  const d = EMBEDDING_DIMENSIONS
  const randomUnit = () => unit(Float64Array.from({ length: d }, normal))
  const shared = randomUnit()
  const centres = Array.from({ length: TOPICS }, randomUnit)
  const directions = Array.from({ length: TOPICS }, () => Array.from({ length: DIRECTIONS }, randomUnit))
  return (topic: number, sample: () => number): Float64Array => {
    const v = new Float64Array(d)
    const centre = centres[topic] as Float64Array
    for (let j = 0; j < d; j++)
      v[j] = (centre[j] as number) + SHARED * (shared[j] as number) + NOISE * sample()
    for (const [i, direction] of (directions[topic] as Float64Array[]).entries()) {
      const g = scaleOf(i) * sample()
      for (let j = 0; j < d; j++) v[j] = (v[j] as number) + g * (direction[j] as number)
    }
    return unit(v)
  }
}

/** pgvector's text form of a unit vector (7 significant digits is float4's precision). */
export const vectorLiteral = (v: ArrayLike<number>) =>
  `[${Array.from(v, (x) => Number(x.toPrecision(7))).join(',')}]`

export interface CorpusRow {
  content: string
  topic: number
  /** The vector in pgvector's text form. */
  vector: string
  values: ArrayLike<number>
}

export interface Query {
  text: string
  topic: number
  vector: number[]
}

/**
 * A corpus: `rows(n)` yields its first n chunks in order (the same every run); `queries(n)`
 * makes n queries (text of one topic and, for dense, a fresh sample of that topic's vectors);
 * `model` is what the chunks' `embedding_model` says; `embedder` answers the service's query
 * embeddings (the dense one looks the query's vector up by its text).
 */
export interface Corpus {
  kind: CorpusKind
  model: string
  rows(count: number, from?: number): Generator<CorpusRow>
  queries(count: number): Query[]
  embedder(queries: Query[], chunks?: ReadonlyMap<string, ArrayLike<number>>): Embedder
}

/** `stream` 0 is the corpus itself; another number gives other chunks of the same corpus. */
export function corpus(kind: CorpusKind, stream = 0): Corpus {
  const local = new LocalEmbedder()
  const { vocabulary, random: corpusRandom } = vocabularyAndStream()
  const rowRandom = stream === 0 ? corpusRandom : seeded(1_000 + stream)
  const queryRandom = seeded(99)
  const sample = mixture(7)
  const rowNoise = gaussian(seeded(11 + 100 * stream))
  const queryNoise = gaussian(seeded(13))
  const model = kind === 'dense' ? 'bench-dense-mixture-v1' : local.model
  let produced = 0
  return {
    kind,
    model,
    *rows(count, from = produced) {
      if (from !== produced) throw new Error('corpus rows are produced in order')
      for (let i = from; i < from + count; i++, produced++) {
        const topic = Math.floor(rowRandom() * TOPICS)
        const content = `${stream === 0 ? 'Chunk' : `Extra ${stream}`} ${i}. ${sentence(vocabulary, rowRandom, 40, topic)}.`
        const vector = kind === 'dense' ? sample(topic, rowNoise) : local.embedOne(content)
        yield {
          content,
          topic,
          values: vector,
          get vector() {
            return vectorLiteral(vector)
          },
        }
      }
    },
    queries(count) {
      return Array.from({ length: count }, () => {
        const topic = Math.floor(queryRandom() * TOPICS)
        const text = sentence(vocabulary, queryRandom, 8, topic)
        const vector = kind === 'dense' ? Array.from(sample(topic, queryNoise)) : local.embedOne(text)
        return { text, topic, vector }
      })
    },
    embedder(queries, chunks = new Map()) {
      if (kind === 'local-hash') return local
      const byText = new Map<string, number[]>(queries.map((q) => [q.text, q.vector]))
      for (const [content, values] of chunks) byText.set(content, Array.from(values))
      return {
        provider: 'local',
        model,
        defaultThreshold: 0.3,
        async embed(texts: string[]) {
          return texts.map((t) => {
            const v = byText.get(t)
            if (!v) throw new Error(`the dense corpus has no vector for "${t.slice(0, 40)}"`)
            return v
          })
        },
        health: () => ({}),
      }
    },
  }
}
