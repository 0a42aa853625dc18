import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { copyChunksBinary } from '@tests/bench/rag/copy'
import type { Corpus } from '@tests/bench/rag/corpus'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, type SqlDriver, type Tx, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPglite } from '@/lib/db/pglite'
import type { Logger } from '@/lib/log'
import { KnowledgeService } from '@/services/knowledge/service'
import { KnowledgeStore } from '@/services/knowledge/store'

/** A fresh embedded database (in memory, or in `dataDir`) with every migration applied. */
export async function openDatabase(
  dataDir = ':memory:',
  options: { inMemory?: boolean } = {},
): Promise<Database & { pglite: PGlite }> {
  const driver =
    options.inMemory && dataDir !== ':memory:' ? await memoryCopy(dataDir) : await openPglite(dataDir)
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(MIGRATIONS_DIR))
  return Object.assign(db, { pglite: driver.pglite })
}

export interface IngestFigures {
  serviceChunks: number
  serviceSeconds: number
  bulkChunks: number
  bulkSeconds: number
  hnswSeconds: number
}

/**
 * Loads `size` chunks of `corpus`: the first `serviceChunks` through KnowledgeService.ingest
 * in calls of `batch` documents (one chunk each; HNSW maintained per row), the rest through the
 * bulk path (index dropped, binary COPY of 1,000 at a time, index rebuilt and timed).
 */
export async function load(
  db: Database & { pglite: PGlite },
  corpus: Corpus,
  size: number,
  options: { serviceChunks: number; batch: number; logger: Logger },
): Promise<IngestFigures> {
  const serviceChunks = Math.min(options.serviceChunks, size)
  const rows = [...corpus.rows(serviceChunks)]
  const vectors = new Map(rows.map((r) => [r.content, r.values]))
  const knowledge = new KnowledgeService(new KnowledgeStore(db), corpus.embedder([], vectors), options.logger)
  const started = performance.now()
  for (let i = 0; i < rows.length; i += options.batch) {
    await knowledge.ingest(
      rows.slice(i, i + options.batch).map((r, j) => ({
        content: r.content,
        metadata: { title: `Synthetic ${i + j}`, source: 'bench' },
      })),
    )
  }
  const serviceSeconds = (performance.now() - started) / 1000

  const loadStarted = performance.now()
  await db.transaction((tx) => tx.exec('drop index public.knowledge_chunks_embedding_hnsw'))
  const [doc] = await db.transaction((tx) =>
    tx.query<{ id: string }>(
      `insert into public.knowledge_documents (title, content_hash) values ('bulk', repeat('b', 64)) returning id`,
    ),
  )
  for (let i = serviceChunks; i < size; i += 1_000) {
    const batch = Array.from(corpus.rows(Math.min(1_000, size - i)), (r, j) => ({
      index: i + j,
      content: r.content,
      values: r.values,
    }))
    await copyChunksBinary(db.pglite, String(doc?.id), corpus.model, batch)
  }
  const bulkSeconds = (performance.now() - loadStarted) / 1000
  const indexStarted = performance.now()
  await db.transaction((tx) =>
    tx.exec(`set local maintenance_work_mem = '1GB';
             create index knowledge_chunks_embedding_hnsw on public.knowledge_chunks
               using hnsw (embedding extensions.vector_cosine_ops)`),
  )
  const hnswSeconds = (performance.now() - indexStarted) / 1000
  // PGlite runs no autovacuum: without fresh statistics the planner may ignore the indexes.
  await db.transaction((tx) => tx.exec('analyze public.knowledge_chunks'))
  return { serviceChunks, serviceSeconds, bulkChunks: size - serviceChunks, bulkSeconds, hnswSeconds }
}

/**
 * The database of `dataDir`, copied into memory (PGlite's data-directory dump): a corpus loaded
 * once is measured in memory, like the original figures, without loading it again.
 */
async function memoryCopy(dataDir: string): Promise<SqlDriver & { pglite: PGlite }> {
  const onDisk = await openPglite(dataDir)
  const dump = await onDisk.pglite.dumpDataDir('none')
  await onDisk.close()
  const pglite = await PGlite.create({ loadDataDir: dump, extensions: { vector } })
  await pglite.exec('set search_path to "$user", public, extensions')
  const txFor = (runner: Pick<PGlite, 'query' | 'exec'>): Tx => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await runner.query<Row>(sql, params as unknown[])).rows
    },
    async exec(sql: string) {
      await runner.exec(sql)
    },
  })
  return {
    kind: 'embedded',
    pglite,
    transaction: (fn) => pglite.transaction((tx) => fn(txFor(tx))),
    close: () => pglite.close(),
  }
}
