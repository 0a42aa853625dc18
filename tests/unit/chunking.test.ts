import { describe, expect, test } from 'bun:test'
import { chunkText } from '@/lib/rag/chunking'

describe('chunkText', () => {
  test('a heading starts a new chunk and is remembered', () => {
    const chunks = chunkText('# One\n\nFirst paragraph.\n\n## Two\n\nSecond paragraph.')
    expect(chunks.map((c) => c.heading)).toEqual(['One', 'Two'])
    expect(chunks[1]?.content).toBe('## Two\n\nSecond paragraph.')
    expect(chunks.map((c) => c.index)).toEqual([0, 1])
  })

  test('paragraphs pack up to the limit, and the next chunk repeats the end of the previous', () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} ${'word '.repeat(30).trim()}.`)
    const chunks = chunkText(paragraphs.join('\n\n'), { maxChars: 600, overlapChars: 100 })
    expect(chunks.length).toBeGreaterThan(2)
    for (const chunk of chunks) expect(chunk.content.length).toBeLessThanOrEqual(600)
    for (let i = 1; i < chunks.length; i++) {
      const previousEnd = (chunks[i - 1]?.content ?? '').slice(-40)
      expect(chunks[i]?.content).toContain(previousEnd.slice(previousEnd.indexOf(' ') + 1))
    }
    // Nothing is lost: every paragraph appears somewhere.
    for (let i = 0; i < 12; i++) expect(chunks.some((c) => c.content.includes(`Paragraph ${i} `))).toBe(true)
  })

  test('one enormous paragraph is cut at sentence boundaries', () => {
    const sentence = 'This sentence is about group dynamics and coordination. '
    const chunks = chunkText(sentence.repeat(100), { maxChars: 500, overlapChars: 50 })
    expect(chunks.length).toBeGreaterThan(5)
    for (const chunk of chunks) expect(chunk.content.length).toBeLessThanOrEqual(500)
  })

  test('empty or blank text gives no chunks', () => {
    expect(chunkText('')).toEqual([])
    expect(chunkText('\n\n  \n')).toEqual([])
  })
})
