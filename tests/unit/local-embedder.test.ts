import { describe, expect, test } from 'bun:test'
import { LocalEmbedder, tokenize } from '@/lib/llm/providers/local/embeddings'
import { EMBEDDING_DIMENSIONS } from '@/lib/rag/embedder'

const embedder = new LocalEmbedder()
const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0)

describe('LocalEmbedder', () => {
  test('1536 dimensions, unit length, deterministic', async () => {
    const [a, b] = await embedder.embed(['Psychological safety at work', 'Psychological safety at work'])
    expect(a).toHaveLength(EMBEDDING_DIMENSIONS)
    expect(Math.abs(cosine(a ?? [], a ?? []) - 1)).toBeLessThan(1e-9)
    expect(a).toEqual(b ?? [])
  })

  test('related wording lands nearer than unrelated wording', () => {
    const query = embedder.embedOne('voicing dissent safely')
    const related = embedder.embedOne('People can voice disagreement and dissent without fear')
    const unrelated = embedder.embedOne('Budgets are controlled by a few senior managers')
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.1)
  })

  test('word forms meet after stemming; stopwords carry nothing', () => {
    expect(tokenize('Voicing voiced voice')).toEqual(['voic', 'voic', 'voic'])
    expect(tokenize('the and of to')).toEqual([])
    const empty = embedder.embedOne('the and of')
    expect(Math.abs(cosine(empty, empty) - 1)).toBeLessThan(1e-9) // still a valid unit vector
  })
})
