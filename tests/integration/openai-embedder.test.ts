import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeOpenAI } from '@tests/fakes/openai'
import { EMBED_BATCH_SIZE, OpenAIEmbedder } from '@/lib/llm/providers/openai/embeddings'
import { createLogger } from '@/lib/log'
import { EmbedderUnavailableError } from '@/lib/rag/embedder'

// The real OpenAI SDK against a wire-level fake on loopback.
const fake = new FakeOpenAI().start()
afterAll(() => fake.stop())
beforeEach(() => fake.reset())

function embedder(breaker = { errorThresholdPercent: 50, volumeThreshold: 3, resetTimeoutMs: 60_000 }) {
  return new OpenAIEmbedder(
    {
      apiKey: fake.apiKey,
      baseURL: fake.baseURL,
      model: 'text-embedding-3-small',
      timeoutMs: 2_000,
      breaker,
    },
    createLogger('silent'),
  )
}

describe('OpenAIEmbedder', () => {
  test('batches within the limit and keeps the order', async () => {
    const texts = Array.from({ length: 250 }, (_, i) => `text number ${i}`)
    const vectors = await embedder().embed(texts)
    expect(fake.embeddingBatches).toEqual([EMBED_BATCH_SIZE, EMBED_BATCH_SIZE, 250 - 2 * EMBED_BATCH_SIZE])
    expect(vectors).toHaveLength(250)
    const again = await embedder().embed(['text number 137'])
    expect(vectors[137]).toEqual(again[0] ?? [])
  })

  for (const status of [500, 503, 429]) {
    test(`an upstream ${status} is "unavailable", with no retry by the SDK`, async () => {
      fake.failWith = status
      await expect(embedder().embed(['x'])).rejects.toBeInstanceOf(EmbedderUnavailableError)
      expect(fake.requests).toBe(1) // the SDK's own retries are off
    })
  }

  test('vectors of the wrong size are refused before they reach SQL', async () => {
    fake.dimensions = 768
    await expect(embedder().embed(['x'])).rejects.toThrow('768 dimensions')
  })

  test('repeated failures open its breaker: calls stop reaching the server', async () => {
    const e = embedder()
    fake.failWith = 500
    for (let i = 0; i < 3; i++) await e.embed(['x']).catch(() => {})
    expect(e.health().breaker).toBe('open')
    fake.failWith = null
    const before = fake.requests
    await expect(e.embed(['x'])).rejects.toBeInstanceOf(EmbedderUnavailableError)
    expect(fake.requests).toBe(before)
  })

  test('a server that is down is "unavailable"', async () => {
    const down = new OpenAIEmbedder(
      {
        apiKey: 'k',
        baseURL: 'http://127.0.0.1:9/v1',
        model: 'text-embedding-3-small',
        timeoutMs: 1_000,
        breaker: { errorThresholdPercent: 50, volumeThreshold: 10, resetTimeoutMs: 1_000 },
      },
      createLogger('silent'),
    )
    await expect(down.embed(['x'])).rejects.toBeInstanceOf(EmbedderUnavailableError)
  })
})
