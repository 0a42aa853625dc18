import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DB_SETUP_TIMEOUT_MS, freshDatabase } from '@tests/helpers/db'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { KnowledgeStore } from '@/services/knowledge/store'

// Issue 12, 3.11: Supabase projects from before 2023 often have pgvector in `public`, where
// `create extension if not exists vector with schema extensions` does nothing. This file pays
// for its own fresh PGlite (the shared one has pgvector in `extensions`), so it holds all of it.
let db: Database
let close: () => Promise<void>
let applied: string[] | Error

beforeAll(async () => {
  const driver = await freshDatabase()
  close = () => driver.close()
  // What such a project has before our migrations run: the extension already in public.
  await driver.transaction((tx) => tx.exec('create extension vector schema public'))
  await bootstrap(driver)
  db = withRoles(driver)
  applied = await migrate(db, readMigrations(MIGRATIONS_DIR)).catch((error: Error) => error)
}, DB_SETUP_TIMEOUT_MS)
afterAll(() => close())

const oneHot = (i: number) => Array.from({ length: 1536 }, (_, j) => (j === i ? 1 : 0))

const matchKnowledgeConfig = async () => {
  const [row] = await db.transaction((tx) =>
    tx.query<{ config: string[] | null }>(
      `select p.proconfig as config from pg_proc p where p.oid = 'public.match_knowledge'::regproc`,
    ),
  )
  return row?.config ?? []
}

test('with pgvector in public, every migration applies and hybrid search works', async () => {
  expect(applied).toEqual(readMigrations(MIGRATIONS_DIR).map((f) => f.file))
  const [ext] = await db.transaction((tx) =>
    tx.query<{ schema: string }>(
      `select extnamespace::regnamespace::text as schema from pg_extension where extname = 'vector'`,
    ),
  )
  expect(ext?.schema).toBe('public')

  const store = new KnowledgeStore(db)
  const inserted = await store.insertDocument(
    { title: 'Vectors in public', source: null, contentHash: 'a'.repeat(64), metadata: {} },
    [
      {
        index: 0,
        content: 'Trust grows when promises are kept.',
        metadata: { title: 't', kind: 'document' },
        embedding: oneHot(1),
        model: 'm',
      },
      {
        index: 1,
        content: 'Budgets decide who gets what.',
        metadata: { title: 't', kind: 'document' },
        embedding: null,
        model: null,
      },
    ],
  )
  expect(inserted).toBe(true)
  const found = await store.search({
    embedding: oneHot(1),
    model: 'm',
    text: 'budgets',
    threshold: 0.5,
    limit: 5,
  })
  // The vector hit (similarity 1) and the full-text hit, fused.
  expect(found.rows.map((r) => r.content).sort()).toEqual(
    ['Budgets decide who gets what.', 'Trust grows when promises are kept.'].sort(),
  )
  expect(found.rows.find((r) => r.content.startsWith('Trust'))?.similarity).toBeCloseTo(1, 5)
  await store.setEmbeddings(
    [{ id: found.rows.find((r) => r.content.startsWith('Budgets'))?.id ?? '', embedding: oneHot(2) }],
    'm',
  )
  expect((await store.storedModels()).sort()).toEqual(['m'])
})

// Both migrations that create match_knowledge: the first (replayed here for the benchmark's
// side-by-side) and 20261201000900, the body in use.
for (const [file, efSearch] of [
  ['20261122000400_knowledge.sql', 100],
  ['20261201000900_knowledge_search.sql', 100],
] as const) {
  test(`${file}: hnsw.iterative_scan is set only when the installed pgvector (0.8 or later) has it`, async () => {
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8')
    const start = sql.indexOf('do $match_knowledge$')
    const end = sql.indexOf('$match_knowledge$;', start + 1)
    expect(start).toBeGreaterThan(-1)
    const block = sql.slice(start, end + '$match_knowledge$;'.length)
    // This PGlite has a pgvector with iterative scans:
    expect(await matchKnowledgeConfig()).toContain('hnsw.iterative_scan=relaxed_order')
    // Replayed as if an older one were installed (the catalog says so for this transaction only):
    const older = await db
      .transaction(async (tx) => {
        await tx.exec(`update pg_extension set extversion = '0.7.4' where extname = 'vector'`)
        await tx.exec(block)
        const [row] = await tx.query<{ config: string[] }>(
          `select p.proconfig as config from pg_proc p where p.oid = 'public.match_knowledge'::regproc`,
        )
        throw Object.assign(new Error('rollback'), { config: row?.config })
      })
      .catch((error: { config?: string[] }) => error.config)
    expect(older).toEqual(['search_path=""', 'enable_seqscan=off', `hnsw.ef_search=${efSearch}`])
    expect(await matchKnowledgeConfig()).toContain('hnsw.iterative_scan=relaxed_order')
  })
}

test('the live match_knowledge is the 20261201000900 one, and the GIN indexes keep no pending list', async () => {
  const [row] = await db.transaction((tx) =>
    tx.query<{ body: string }>(
      `select p.prosrc as body from pg_proc p where p.oid = 'public.match_knowledge'::regproc`,
    ),
  )
  expect(row?.body).toContain('three_hits')
  const rows = await db.transaction((tx) =>
    tx.query<{ name: string; options: string[] | null }>(
      `select c.relname as name, c.reloptions as options from pg_class c
        where c.relname in ('knowledge_chunks_fts', 'knowledge_chunks_metadata') order by 1`,
    ),
  )
  expect(rows).toEqual([
    { name: 'knowledge_chunks_fts', options: ['fastupdate=off'] },
    { name: 'knowledge_chunks_metadata', options: ['fastupdate=off'] },
  ])
})
