import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'

// A fresh start (issue 15, item 5): the seeded pages are published by the migration, and the
// real process puts them into the knowledge base on its own shortly after start-up (index.ts,
// `content.indexMissing`) — nothing else would before the first hourly run — so the coach can
// cite them without an admin doing anything.

const SEEDS = [
  { slug: 'what-is-pilar', query: 'What PILAR is: how a group coordinates' },
  { slug: 'the-two-modes', query: 'The two modes: egalitarian and hierarchical' },
  { slug: 'reading-team-results', query: "How to read a team's results: mean, spread and consensus" },
]

let server: ServerProcess
let dataDir: string

beforeAll(async () => {
  // A copy of a directory the real server migrated and stopped at once: its seeds are not indexed.
  dataDir = await preparedDataDir()
  server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info' })
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  server?.child.kill('SIGKILL')
  await server?.exited
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

describe('a fresh start', () => {
  test('the seed pages are listed, and indexed into the knowledge base without any request', async () => {
    const list = (await (await fetch(`${server.baseUrl}/api/v1/content?limit=5`)).json()) as {
      data: { slug: string }[]
    }
    expect(list.data.map((item) => item.slug)).toEqual(SEEDS.map((seed) => seed.slug))

    // One "content indexed" line per seed page, from the start-up background work.
    const indexed = () => server.logs.filter((line) => line.msg === 'content indexed').length
    await server.waitForLog(() => indexed() >= SEEDS.length, 30_000)

    for (const seed of SEEDS) {
      const response = await fetch(`${server.baseUrl}/api/v1/rag/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: seed.query, limit: 10 }),
      })
      expect(response.status).toBe(200)
      const { results } = (await response.json()) as {
        results: { metadata: { slug?: string; source?: string; kind?: string } }[]
      }
      const hit = results.find((r) => r.metadata.slug === seed.slug)
      expect({
        slug: seed.slug,
        kind: hit?.metadata.kind,
        source: hit?.metadata.source?.split(':')[0],
      }).toEqual({
        slug: seed.slug,
        kind: 'content',
        source: 'content',
      })
    }
  }, 60_000)
})
