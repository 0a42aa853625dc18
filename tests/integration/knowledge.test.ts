import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SwitchableEmbedder } from '@tests/fakes/embedders'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database, Tx } from '@/lib/db/database'
import type { ErrorBody } from '@/lib/errors/api-error'
import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'
import { PILLAR_IDS } from '@/services/pilar/framework'

type Result = { id: string; content: string; metadata: Record<string, unknown>; similarity: number }
type QueryAnswer = { results: Result[]; search_mode: string; degraded: boolean }

let t: TestApp
let db: Database
let admin: TestUser
let user: TestUser
const embedder = new SwitchableEmbedder()

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH, { embedder })
  ;({ db } = await sharedDatabase())
  admin = await newUser({ admin: true })
  user = await newUser()
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await db.transaction((tx) => tx.query(`delete from public.knowledge_documents where source like 'test:%'`))
})

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  t.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

async function search(body: Record<string, unknown>): Promise<QueryAnswer> {
  const response = await post('/api/v1/rag/query', body)
  expect(response.status).toBe(200)
  return (await response.json()) as QueryAnswer
}

describe('POST /rag/query validation', () => {
  const bad: [string, unknown][] = [
    ['empty query', { query: '' }],
    ['blank query', { query: '   \n\t ' }],
    ['only control characters', { query: '\u0000\u0007\u001b' }],
    ['5001 characters', { query: 'a'.repeat(5_001) }],
    ['limit 0', { query: 'trust', limit: 0 }],
    ['limit 51', { query: 'trust', limit: 51 }],
    ['limit 2.5', { query: 'trust', limit: 2.5 }],
    ['threshold -0.1', { query: 'trust', threshold: -0.1 }],
    ['threshold 2', { query: 'trust', threshold: 2 }],
    ['unknown pillar', { query: 'trust', pillar_id: 'nope' }],
    ['unknown mode', { query: 'trust', mode: 'feudal' }],
    ['pillar of the other mode', { query: 'trust', pillar_id: 'status', mode: 'egalitarian' }],
    ['unknown field', { query: 'trust', top_k: 5 }],
    ['query not a string', { query: 42 }],
  ]
  for (const [name, body] of bad) {
    test(`${name} → 400 VALIDATION_ERROR`, async () => {
      const response = await post('/api/v1/rag/query', body)
      expect(response.status).toBe(400)
      expect(((await response.json()) as ErrorBody).error.code).toBe('VALIDATION_ERROR')
    })
  }

  test('5000 characters after trimming is fine; control characters are removed, not rejected', async () => {
    expect((await post('/api/v1/rag/query', { query: ` ${'a'.repeat(5_000)} ` })).status).toBe(200)
    // NUL is the exception: refused like in every free-text field (input-hardening.test.ts).
    const cleaned = await search({ query: 'psychological\u001b safety\u0007' })
    expect(cleaned.results.length).toBeGreaterThan(0)
  })
})

describe('search with the local embedder', () => {
  test('"psychological safety and voicing dissent" ranks a divsexp passage first, in hybrid mode', async () => {
    const answer = await search({ query: 'psychological safety and voicing dissent' })
    expect(answer.search_mode).toBe('hybrid')
    expect(answer.degraded).toBe(false)
    expect(answer.results[0]?.metadata.pillar_id).toBe('divsexp')
  })

  test('pillar and mode filters hold', async () => {
    const byPillar = await search({
      query: 'help trust respect goals',
      pillar_id: 'indrecip',
      threshold: 0,
      limit: 50,
    })
    expect(byPillar.results.length).toBeGreaterThan(0)
    expect(new Set(byPillar.results.map((r) => r.metadata.pillar_id))).toEqual(new Set(['indrecip']))
    const byMode = await search({
      query: 'help trust respect goals',
      mode: 'hierarchical',
      threshold: 0,
      limit: 50,
    })
    expect(byMode.results.length).toBeGreaterThan(0)
    expect(new Set(byMode.results.map((r) => r.metadata.mode))).toEqual(new Set(['hierarchical']))
  })

  test('the threshold removes weak matches', async () => {
    const loose = await search({ query: 'leaders command and others obey', threshold: 0, limit: 50 })
    const strict = await search({ query: 'leaders command and others obey', threshold: 0.35, limit: 50 })
    expect(strict.results.length).toBeGreaterThan(0)
    expect(strict.results.length).toBeLessThan(loose.results.length)
    for (const r of strict.results) expect(r.similarity).toBeGreaterThanOrEqual(0.35)
    expect(loose.results.some((r) => r.similarity < 0.35)).toBe(true)
  })

  test('a query of stopwords only searches by vector', async () => {
    expect((await search({ query: 'the and of', threshold: 0 })).search_mode).toBe('vector')
  })
})

describe('degradation', () => {
  test('embedder down → lexical answers with degraded: true, not an error', async () => {
    embedder.down = true
    try {
      // A query not asked before (recent query vectors are cached and would still answer).
      const answer = await search({ query: 'psychological safety for newcomers' })
      expect(answer).toMatchObject({ search_mode: 'lexical', degraded: true })
      expect(answer.results.length).toBeGreaterThan(0)
      expect(answer.results[0]?.content.toLowerCase()).toContain('psychological safety')
    } finally {
      embedder.down = false
    }
  })

  test('stored vectors from another model → /ready says so and search is lexical-only', async () => {
    const other = new SwitchableEmbedder('some-other-model')
    const app = await testApp(LOCAL_AUTH, { embedder: other })
    const ready = (await (await app.request('/ready')).json()) as {
      status: string
      checks: { embeddings: { status: string; problem?: string; stored_models: string[] } }
    }
    expect(ready.status).toBe('degraded')
    expect(ready.checks.embeddings.status).toBe('error')
    expect(ready.checks.embeddings.stored_models).toContain('local-hash-v1')
    expect(ready.checks.embeddings.problem).toContain('lexical-only')
    const calls = other.calls
    const response = await app.request('/api/v1/rag/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'favour trading' }),
    })
    expect(await response.json()).toMatchObject({ search_mode: 'lexical', degraded: true })
    expect(other.calls).toBe(calls) // never asked for a vector to compare with the wrong model
    // Nor does it add a second model's vectors: new text is stored without them.
    const stored = await app.services.knowledge.ingest([
      { content: `Mixed-model guard ${crypto.randomUUID()}`, metadata: { source: 'test:mixed' } },
    ])
    expect(stored).toMatchObject({ documents: 1, embedding_model: null })
  })
})

describe('ingest', () => {
  const doc = (tag: string) => ({
    content: `# Retrospectives ${tag}\n\nBlameless retrospectives let a team discuss mistakes ${tag} openly.\n\n## Practice\n\nRotate the facilitator.`,
    metadata: { title: `Retros ${tag}`, source: `test:${tag}`, pillar_id: 'divsexp', mode: 'egalitarian' },
  })

  test('admin only: anonymous → 401, user → 403', async () => {
    expect((await post('/api/v1/rag/ingest', { documents: [doc('x')] })).status).toBe(401)
    expect((await post('/api/v1/rag/ingest', { documents: [doc('x')] }, user.headers)).status).toBe(403)
  })

  test('ingest twice: the second time everything is a duplicate; the text becomes searchable', async () => {
    const tag = crypto.randomUUID().slice(0, 8)
    const first = await post('/api/v1/rag/ingest', { documents: [doc(tag), doc(`${tag}b`)] }, admin.headers)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({
      documents: 2,
      chunks: 4,
      skipped_duplicates: 0,
      embedding_model: 'local-hash-v1',
    })
    const second = await post('/api/v1/rag/ingest', { documents: [doc(tag), doc(`${tag}b`)] }, admin.headers)
    expect(await second.json()).toEqual({
      documents: 0,
      chunks: 0,
      skipped_duplicates: 2,
      embedding_model: null,
    })
    const found = await search({ query: `blameless retrospectives ${tag}`, pillar_id: 'divsexp' })
    // Both new documents match; the one carrying the tag must be among the first two.
    const hit = found.results.slice(0, 2).find((r) => r.metadata.title === `Retros ${tag}`)
    expect(hit?.metadata).toMatchObject({ pillar_id: 'divsexp', kind: 'document' })
  })

  test('the same text twice in one request is stored once', async () => {
    const d = doc(crypto.randomUUID().slice(0, 8))
    const answer = await (await post('/api/v1/rag/ingest', { documents: [d, d] }, admin.headers)).json()
    expect(answer).toMatchObject({ documents: 1, skipped_duplicates: 1 })
  })

  test('ingested while the embedder is down: stored without vectors, searchable by text, backfilled later', async () => {
    const tag = crypto.randomUUID().slice(0, 8)
    embedder.down = true
    const answer = await (await post('/api/v1/rag/ingest', { documents: [doc(tag)] }, admin.headers)).json()
    embedder.down = false
    expect(answer).toMatchObject({ documents: 1, embedding_model: null })
    // Before any backfill, hybrid search still finds the text-only chunks by their words.
    const found = await search({ query: `blameless retrospectives ${tag} mistakes`, threshold: 0.9 })
    expect(found.search_mode).toBe('hybrid')
    expect(found.results.some((r) => r.content.includes(tag))).toBe(true)
    expect(await t.services.knowledge.backfill()).toBeGreaterThanOrEqual(2)
    const [row] = await db.transaction((tx) =>
      tx.query<{ missing: number }>(
        `select count(*)::int as missing from public.knowledge_chunks where embedding is null`,
      ),
    )
    expect(row?.missing).toBe(0)
  })

  test('bad documents → 400', async () => {
    for (const body of [
      { documents: [] },
      { documents: Array.from({ length: 101 }, () => doc('n')) },
      { documents: [{ content: '' }] },
      { documents: [{ content: 'x', metadata: { pillar_id: 'status', mode: 'egalitarian' } }] },
      { documents: [{ content: 'x', metadata: { author: 'me' } }] },
    ]) {
      expect((await post('/api/v1/rag/ingest', body, admin.headers)).status).toBe(400)
    }
  })
})

describe('framework routes', () => {
  test('every pillar has its four forces', async () => {
    for (const id of PILLAR_IDS) {
      const body = (await (await t.request(`/api/v1/rag/forces/${id}`)).json()) as {
        pillar: { id: string }
        forces: { key: string; description: string }[]
      }
      expect(body.pillar.id).toBe(id)
      expect(body.forces).toHaveLength(4)
      for (const f of body.forces) expect(f.description.length).toBeGreaterThan(20)
    }
    expect((await t.request('/api/v1/rag/forces/nope')).status).toBe(400)
  })

  test('connections: 20 per mode, 40 in all, filters by pillar, mismatches refused', async () => {
    type Connections = {
      connections: { mode: string; from_pillar: string; to_pillar: string; type: string }[]
    }
    const all = (await (await t.request('/api/v1/rag/connections')).json()) as Connections
    expect(all.connections).toHaveLength(40)
    for (const mode of ['egalitarian', 'hierarchical']) {
      const some = (await (await t.request(`/api/v1/rag/connections?mode=${mode}`)).json()) as Connections
      expect(some.connections).toHaveLength(20)
      expect(some.connections.every((c) => c.mode === mode)).toBe(true)
    }
    const touching = (await (
      await t.request('/api/v1/rag/connections?pillar_id=status')
    ).json()) as Connections
    expect(touching.connections).toHaveLength(8) // 4 out, 4 in
    expect(touching.connections.every((c) => c.from_pillar === 'status' || c.to_pillar === 'status')).toBe(
      true,
    )
    expect((await t.request('/api/v1/rag/connections?mode=egalitarian&pillar_id=status')).status).toBe(400)
  })
})

describe('SQL level', () => {
  const asAnon = <T>(fn: (tx: Tx) => Promise<T>) =>
    db.transaction(async (tx) => {
      await tx.query(
        `select set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('role', 'anon', true)`,
      )
      return fn(tx)
    })
  const vector = `[${new LocalEmbedder().embedOne('trust and help').join(',')}]`

  test('match_knowledge caps match_count at 50 whatever the caller asks', async () => {
    const rows = await db.asService((tx) =>
      tx.query(
        'select * from public.match_knowledge($1::text::extensions.vector, $2, 0, 10000, null, null)',
        [vector, 'trust help'],
      ),
    )
    expect(rows).toHaveLength(50)
  })

  test('vectors of another model are never compared with the query vector', async () => {
    const [doc] = await db.transaction((tx) =>
      tx.query<{ id: string }>(
        `insert into public.knowledge_documents (title, source, content_hash) values ('x', 'test:model', $1) returning id`,
        [Bun.SHA256.hash(crypto.randomUUID(), 'hex')],
      ),
    )
    // Identical to the query vector, but made by "other-model": similarity would be 1.0.
    await db.transaction((tx) =>
      tx.query(
        `insert into public.knowledge_chunks (document_id, chunk_index, content, embedding, embedding_model)
         values ($1, 0, 'zzqx unrelated words', $2::text::extensions.vector, 'other-model')`,
        [doc?.id, vector],
      ),
    )
    const rows = await db.asService((tx) =>
      tx.query<{ content: string }>(
        `select * from public.match_knowledge($1::text::extensions.vector, 'trust and help', 0.99, 50, null, null, 'local-hash-v1')`,
        [vector],
      ),
    )
    expect(rows.map((r) => r.content)).not.toContain('zzqx unrelated words')
    const unguarded = await db.asService((tx) =>
      tx.query<{ content: string }>(
        `select * from public.match_knowledge($1::text::extensions.vector, 'trust and help', 0.99, 50, null, null)`,
        [vector],
      ),
    )
    expect(unguarded.map((r) => r.content)).toContain('zzqx unrelated words') // the test can fail
  })

  test('anon can read knowledge and search it, but not write it', async () => {
    const read = await asAnon((tx) => tx.query('select count(*)::int as n from public.knowledge_chunks'))
    expect((read[0] as { n: number }).n).toBeGreaterThanOrEqual(90)
    const found = await asAnon((tx) =>
      tx.query('select * from public.match_knowledge(null, $1, 0.5, 5, null, null)', [
        'psychological safety',
      ]),
    )
    expect(found.length).toBeGreaterThan(0)
    for (const sql of [
      `insert into public.knowledge_documents (title, content_hash) values ('x', repeat('a', 64))`,
      `update public.knowledge_chunks set content = 'defaced'`,
      `delete from public.knowledge_chunks`,
      `update public.pillars set title = 'defaced'`,
    ]) {
      await expect(asAnon((tx) => tx.query(sql))).rejects.toThrow('permission denied')
    }
  })

  test('an authenticated user cannot write knowledge either', async () => {
    await expect(
      db.asUser({ sub: user.id }, (tx) => tx.query(`delete from public.knowledge_documents`)),
    ).rejects.toThrow('permission denied')
  })
})

// Issue 17 rewrote match_knowledge (20261201000900: bounded candidates per side). What the
// rewrite could break, each on chunks of its own made-up words.
describe('match_knowledge semantics', () => {
  const local = new LocalEmbedder()
  const literal = (v: number[]) => `[${v.join(',')}]`
  type Row = { id: string; content: string; similarity: number }

  async function chunks(
    rows: { content: string; embedding?: number[] | null; metadata?: Record<string, unknown> }[],
  ): Promise<string[]> {
    const [doc] = await db.transaction((tx) =>
      tx.query<{ id: string }>(
        `insert into public.knowledge_documents (title, source, content_hash) values ('s', 'test:semantics', $1) returning id`,
        [Bun.SHA256.hash(crypto.randomUUID(), 'hex')],
      ),
    )
    const ids: string[] = []
    for (const [i, r] of rows.entries()) {
      const [row] = await db.transaction((tx) =>
        tx.query<{ id: string }>(
          `insert into public.knowledge_chunks (document_id, chunk_index, content, metadata, embedding, embedding_model)
           values ($1, $2, $3, $4::text::jsonb, $5::text::extensions.vector, case when $5::text is null then null else 'local-hash-v1' end)
           returning id`,
          [
            doc?.id,
            i,
            r.content,
            JSON.stringify(r.metadata ?? {}),
            r.embedding ? literal(r.embedding) : null,
          ],
        ),
      )
      ids.push(row?.id ?? '')
    }
    return ids
  }

  const match = (
    embedding: number[] | null,
    text: string,
    options: { threshold?: number; count?: number; pillar?: string; mode?: string } = {},
  ) =>
    db.asService((tx) =>
      tx.query<Row>(
        `select id, content, similarity::float8 as similarity
           from public.match_knowledge($1::text::extensions.vector, $2, $3, $4, $5, $6, 'local-hash-v1')`,
        [
          embedding ? literal(embedding) : null,
          text,
          options.threshold ?? 0,
          options.count ?? 10,
          options.pillar ?? null,
          options.mode ?? null,
        ],
      ),
    )

  test('a chunk found by both sides appears once, with its vector similarity', async () => {
    const content = 'zqboth alpha marker'
    const [id] = await chunks([{ content, embedding: local.embedOne(content) }])
    const rows = await match(local.embedOne(content), content, { count: 50 })
    expect(rows.filter((r) => r.id === id)).toHaveLength(1)
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length)
    expect(rows[0]?.id).toBe(id)
    expect(rows[0]?.similarity).toBeCloseTo(1, 5)
  })

  test('equal chunks are ordered by id, the same on every call', async () => {
    const content = 'zqtie gamma marker'
    const ids = await chunks([
      { content, embedding: local.embedOne(content) },
      { content, embedding: local.embedOne(content) },
    ])
    const first = await match(local.embedOne(content), content)
    const again = await match(local.embedOne(content), content)
    expect(first.slice(0, 2).map((r) => r.id)).toEqual([...ids].sort())
    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id))
  })

  test('without a query vector: full text alone, ranked by ts_rank_cd, scored r / (1 + r)', async () => {
    const ids = await chunks([
      { content: 'zqlex zqlex zqlex', embedding: local.embedOne('zqlex zqlex zqlex') },
      { content: 'zqlex once' },
    ])
    const rows = await match(null, 'zqlex', { threshold: 0.99 })
    expect(rows.map((r) => r.id)).toEqual(ids) // three occurrences, then one
    // ts_rank_cd counts 0.1 per occurrence of a query word here.
    expect(rows[0]?.similarity).toBeCloseTo(0.3 / 1.3, 4)
    expect(rows[1]?.similarity).toBeCloseTo(0.1 / 1.1, 4)
  })

  test('the threshold removes comparable vectors below it, never text-only hits', async () => {
    const ids = await chunks([
      { content: 'zqthr epsilon', embedding: local.embedOne('entirely unrelated budget words') },
      { content: 'zqthr zeta' },
    ])
    const [far = '', textOnly = ''] = ids
    const strict = (await match(local.embedOne('zqthr'), 'zqthr', { threshold: 0.9 })).map((r) => r.id)
    expect(strict).toContain(textOnly)
    expect(strict).not.toContain(far)
    const loose = (await match(local.embedOne('zqthr'), 'zqthr', { threshold: 0 })).map((r) => r.id)
    expect(loose).toEqual(expect.arrayContaining(ids))
  })

  test('pillar and mode filters hold on both sides at once', async () => {
    const content = 'zqfilter eta marker'
    const ids = await chunks([
      {
        content,
        embedding: local.embedOne(content),
        metadata: { pillar_id: 'divsexp', mode: 'egalitarian' },
      },
      {
        content,
        embedding: local.embedOne(content),
        metadata: { pillar_id: 'divsexp', mode: 'hierarchical' },
      },
      { content, embedding: local.embedOne(content), metadata: { pillar_id: 'status', mode: 'egalitarian' } },
    ])
    const [kept = '', otherMode = '', otherPillar = ''] = ids
    const unfiltered = (await match(local.embedOne(content), content, { count: 50 })).map((r) => r.id)
    expect(unfiltered).toEqual(expect.arrayContaining(ids)) // the test can fail
    const rows = await match(local.embedOne(content), content, {
      pillar: 'divsexp',
      mode: 'egalitarian',
      count: 50,
    })
    expect(rows.map((r) => r.id)).toContain(kept)
    expect(rows.map((r) => r.id)).not.toContain(otherMode)
    expect(rows.map((r) => r.id)).not.toContain(otherPillar)
  })

  test('more full-text matches than the bounded pool: the chunk with every word still ranks first', async () => {
    // 130 chunks with one of the words (the pool for 10 results is 100), then one with both.
    await chunks(Array.from({ length: 130 }, (_, i) => ({ content: `zqpool filler number ${i}` })))
    const [needle] = await chunks([{ content: 'zqpool zqneedle together' }])
    const [matches] = await db.asService((tx) =>
      tx.query<{ n: number }>(
        `select count(*)::int as n from public.knowledge_chunks where fts @@ to_tsquery('english', 'zqpool | zqneedle')`,
      ),
    )
    expect(matches?.n).toBeGreaterThan(100)
    const rows = await match(null, 'zqpool zqneedle')
    expect(rows).toHaveLength(10)
    expect(rows[0]?.id).toBe(needle)
  })
})
