import { parseArgs } from 'node:util'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPglite } from '@/lib/db/pglite'
import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'
import { createLogger } from '@/lib/log'
import { toVectorLiteral } from '@/lib/rag/embedder'
import { KnowledgeService } from '@/services/knowledge/service'
import { KnowledgeStore } from '@/services/knowledge/store'

/**
 * bun run bench rag [--sizes 10000,100000] [--queries 50]
 *
 * On the embedded database (in memory), for each corpus size of synthetic chunks:
 * - ingest throughput (chunks/s) through KnowledgeService.ingest (chunking, local embedding,
 *   batched insert) for the first 2,000 documents, then a bulk load of the rest;
 * - p50/p95 latency of the top-10 vector query with the HNSW index vs an exact scan (index
 *   scans off), side by side on the same queries, and recall@10 of HNSW against exact;
 * - p50 of the full hybrid match_knowledge call.
 */
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '50' },
    'ef-search': { type: 'string', default: '40,100,200' },
  },
})
const SIZES = String(args.sizes).split(',').map(Number)
const QUERIES = Number(args.queries)
const EF_SEARCH = String(args['ef-search']).split(',').map(Number)

// A deterministic vocabulary and text generator, so runs are comparable.
let seed = 42
const random = () => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
  return seed / 2 ** 32
}
const SYLLABLES = [
  'ta',
  'ko',
  'ri',
  'mu',
  'sel',
  'van',
  'dor',
  'pli',
  'qua',
  'ne',
  'bro',
  'fen',
  'gal',
  'hu',
  'jin',
  'lo',
]
const VOCABULARY = Array.from({ length: 3_000 }, () =>
  Array.from(
    { length: 2 + Math.floor(random() * 3) },
    () => SYLLABLES[Math.floor(random() * SYLLABLES.length)],
  ).join(''),
)
// Like real text, chunks cluster by topic: each topic draws most words from its own slice of
// the vocabulary and the rest from the shared, skewed whole.
const TOPICS = 300
const sentence = (words: number, topic = Math.floor(random() * TOPICS)) =>
  Array.from({ length: words }, () =>
    random() < 0.6
      ? VOCABULARY[(topic * 10 + Math.floor(random() * 10)) % VOCABULARY.length]
      : VOCABULARY[Math.floor(random() ** 1.5 * VOCABULARY.length)],
  ).join(' ')

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}

const logger = createLogger('warn')
const embedder = new LocalEmbedder()

for (const size of SIZES) {
  const driver = await openPglite(':memory:')
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(MIGRATIONS_DIR))
  const knowledge = new KnowledgeService(new KnowledgeStore(db), embedder, logger)

  // Ingest through the service (one chunk per document) to measure the real path.
  const serviceDocs = Math.min(2_000, size)
  const started = performance.now()
  for (let i = 0; i < serviceDocs; i += 100) {
    await knowledge.ingest(
      Array.from({ length: Math.min(100, serviceDocs - i) }, (_, j) => ({
        content: `Document ${i + j}. ${sentence(40)}.`,
        metadata: { title: `Synthetic ${i + j}`, source: 'bench' },
      })),
    )
  }
  const ingestRate = serviceDocs / ((performance.now() - started) / 1000)

  // The rest is bulk-loaded (index dropped and rebuilt: the fastest path for a large load).
  const loadStarted = performance.now()
  await db.transaction((tx) => tx.exec('drop index public.knowledge_chunks_embedding_hnsw'))
  const [doc] = await db.transaction((tx) =>
    tx.query<{ id: string }>(
      `insert into public.knowledge_documents (title, content_hash) values ('bulk', repeat('b', 64)) returning id`,
    ),
  )
  for (let i = serviceDocs; i < size; i += 1_000) {
    const rows = Array.from({ length: Math.min(1_000, size - i) }, (_, j) => {
      const content = `Chunk ${i + j}. ${sentence(40)}.`
      return { chunk_index: i + j, content, embedding: toVectorLiteral(embedder.embedOne(content)) }
    })
    await db.transaction((tx) =>
      tx.query(
        `insert into public.knowledge_chunks (document_id, chunk_index, content, metadata, embedding, embedding_model)
         select $1, r.chunk_index, r.content, '{"kind":"document"}', r.embedding::extensions.vector, 'local-hash-v1'
           from jsonb_to_recordset($2::text::jsonb) as r(chunk_index integer, content text, embedding text)`,
        [doc?.id, JSON.stringify(rows)],
      ),
    )
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000
  const indexStarted = performance.now()
  await db.transaction((tx) =>
    tx.exec(`set local maintenance_work_mem = '512MB';
             create index knowledge_chunks_embedding_hnsw on public.knowledge_chunks
               using hnsw (embedding extensions.vector_cosine_ops)`),
  )
  const indexSeconds = (performance.now() - indexStarted) / 1000
  // PGlite runs no autovacuum: without fresh statistics the planner may ignore the index.
  await db.transaction((tx) => tx.exec('analyze public.knowledge_chunks'))

  const queries = Array.from({ length: QUERIES }, () => sentence(8))
  const topTen = (vector: string, exact: boolean, efSearch = 40) =>
    db.transaction(async (tx) => {
      // Force each path: PGlite's planner prefers a sequential scan on small tables, because its
      // costs do not reflect how expensive a 1536-d distance is.
      await tx.exec(
        exact
          ? 'set local enable_indexscan = off; set local enable_bitmapscan = off'
          : `set local enable_seqscan = off; set local hnsw.ef_search = ${efSearch}`,
      )
      const t0 = performance.now()
      const plan = await tx.query<{ 'QUERY PLAN': string }>(
        `explain select id from public.knowledge_chunks order by embedding <=> $1::text::extensions.vector limit 10`,
        [vector],
      )
      const usesIndex = plan.some((p) => p['QUERY PLAN'].includes('knowledge_chunks_embedding_hnsw'))
      if (usesIndex === exact)
        throw new Error(
          `expected ${exact ? 'an exact scan' : 'the HNSW index'}: ${plan.map((p) => p['QUERY PLAN'].slice(0, 120)).join(' / ')}`,
        )
      const t1 = performance.now()
      const rows = await tx.query<{ id: string }>(
        `select id from public.knowledge_chunks order by embedding <=> $1::text::extensions.vector limit 10`,
        [vector],
      )
      return { ms: performance.now() - t1, ids: rows.map((r) => r.id), planMs: t1 - t0 }
    })
  const vectors = queries.map((q) => toVectorLiteral(embedder.embedOne(q)))
  const exactMs: number[] = []
  const exactIds: string[][] = []
  const hnsw = new Map(EF_SEARCH.map((ef) => [ef, { ms: [] as number[], recall: 0 }]))
  // Side by side: for each query, the exact scan and every ef_search setting in turn.
  for (const vector of vectors) {
    const exact = await topTen(vector, true)
    exactMs.push(exact.ms)
    exactIds.push(exact.ids)
    for (const [ef, figures] of hnsw) {
      const approx = await topTen(vector, false, ef)
      figures.ms.push(approx.ms)
      figures.recall +=
        approx.ids.filter((id) => exact.ids.includes(id)).length / Math.max(1, exact.ids.length)
    }
  }
  const hybridMs: number[] = []
  for (const q of queries) {
    const t0 = performance.now()
    await knowledge.search({ query: q, limit: 10, threshold: 0 })
    hybridMs.push(performance.now() - t0)
  }
  const [count] = await db.transaction((tx) =>
    tx.query<{ n: number }>('select count(*)::int as n from public.knowledge_chunks'),
  )
  console.log(`${count?.n} chunks (1536-d, local-hash-v1, ${TOPICS} topics), ${QUERIES} queries`)
  console.log(
    `  ingest via service: ${ingestRate.toFixed(0)} chunks/s (${serviceDocs} docs, HNSW maintained per row); ` +
      `bulk load ${((size - serviceDocs) / loadSeconds).toFixed(0)} chunks/s without index, then HNSW build ${indexSeconds.toFixed(1)} s`,
  )
  console.log(
    `  top-10 exact scan        p50 ${percentile(exactMs, 50).toFixed(2)} ms  p95 ${percentile(exactMs, 95).toFixed(2)} ms`,
  )
  for (const [ef, figures] of hnsw) {
    console.log(
      `  top-10 HNSW ef_search ${String(ef).padEnd(3)} p50 ${percentile(figures.ms, 50).toFixed(2)} ms  p95 ${percentile(figures.ms, 95).toFixed(2)} ms  recall@10 ${(figures.recall / QUERIES).toFixed(3)}`,
    )
  }
  console.log(
    `  match_knowledge hybrid (embed + search, ef_search 100) p50 ${percentile(hybridMs, 50).toFixed(2)} ms  p95 ${percentile(hybridMs, 95).toFixed(2)} ms`,
  )
  await db.close()
}
