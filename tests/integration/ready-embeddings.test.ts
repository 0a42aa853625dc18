import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SwitchableEmbedder } from '@tests/fakes/embedders'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { READINESS_CACHE_MS } from '@/services/readiness'

interface ReadyBody {
  status: string
  checks: {
    database: { status: string }
    llm: { status: string }
    embeddings: { status: string; pending?: number; problem?: string }
  }
}

// A working instance over the shared database: it stores the waiting chunks and, at the end,
// embeds them again so no other file meets them.
let t: TestApp
beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
}, DB_SETUP_TIMEOUT_MS)
afterAll(async () => {
  await t.services.knowledge.backfill()
})

async function ready(app: TestApp): Promise<ReadyBody> {
  // The pending count rides on a probe cached for READINESS_CACHE_MS.
  await Bun.sleep(READINESS_CACHE_MS + 50)
  const response = await app.request('/ready')
  expect(response.status).toBe(200) // degraded still serves
  return (await response.json()) as ReadyBody
}

/** Chunks stored without a vector, as ingesting while the embedder is down leaves them. */
async function leavePending(): Promise<void> {
  const down = new SwitchableEmbedder()
  down.down = true
  const writer = await testApp(LOCAL_AUTH, { embedder: down, skipKnowledgeInit: true })
  const word = `pending${crypto.randomUUID().slice(0, 8)}`
  const result = await writer.services.knowledge.ingest([
    { content: `# Outage notes\n\nThe ${word} drill ran while the embedder was down.`, metadata: {} },
  ])
  expect(result.embedding_model).toBeNull()
  expect(await writer.services.knowledge.pendingEmbeddings()).toBeGreaterThan(0)
}

describe('/ready and the embedder at start-up', () => {
  test('the embedder down at start-up with passages waiting: degraded, until an embedding succeeds', async () => {
    await leavePending()
    // A new instance starts with the embedder down: its start-up backfill fails (one call, far
    // below any breaker's volume threshold).
    const embedder = new SwitchableEmbedder()
    embedder.down = true
    const starting = await testApp(LOCAL_AUTH, { embedder })
    expect(embedder.calls).toBeGreaterThan(0)

    const degraded = await ready(starting)
    expect(degraded.status).toBe('degraded')
    expect(degraded.checks.embeddings).toMatchObject({ status: 'error' })
    expect(degraded.checks.embeddings.pending).toBeGreaterThan(0)
    expect(degraded.checks.embeddings.problem).toContain('failed at start-up')
    // Everything else is fine: the embeddings check alone makes it degraded.
    expect(degraded.checks.database.status).toBe('ok')
    expect(degraded.checks.llm.status).toBe('ok')

    // The provider is back: the first call that reaches it (a search's query vector) clears it,
    // though the chunks still wait for the backfill.
    embedder.down = false
    const search = await starting.request('/api/v1/rag/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'outage drill' }),
    })
    expect(search.status).toBe(200)
    const recovered = await ready(starting)
    expect(recovered.status).toBe('ready')
    expect(recovered.checks.embeddings.status).toBe('ok')
    expect(recovered.checks.embeddings.problem).toBeUndefined()
  })

  test('passages waiting but the embedder never failed at start-up: ready (a backlog alone is a count)', async () => {
    await leavePending()
    const working = await testApp(LOCAL_AUTH, { embedder: new SwitchableEmbedder(), skipKnowledgeInit: true })
    const report = await ready(working)
    expect(report.checks.embeddings.pending).toBeGreaterThan(0)
    expect(report.status).toBe('ready')
    expect(report.checks.embeddings.status).toBe('ok')
  })
})
