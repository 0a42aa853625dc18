import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type CorpusKind, corpus, type Query, vectorLiteral } from '@tests/bench/rag/corpus'
import { type IngestFigures, load, openDatabase } from '@tests/bench/rag/load'
import { createOldMatchKnowledge, OLD_FUNCTION } from '@tests/bench/rag/old-function'
import { median, percentile } from '@tests/bench/stats'
import { MIGRATIONS_DIR } from '@/container'
import type { Database } from '@/lib/db/database'
import { createLogger } from '@/lib/log'
import { KnowledgeService } from '@/services/knowledge/service'
import { KnowledgeStore } from '@/services/knowledge/store'

/**
 * bun run bench rag [--sizes 100000] [--corpora dense,local-hash] [--queries 50] [--rounds 5]
 *                   [--ef-search 16,32,40,64,100,200] [--ingest 300] [--data-dir DIR]
 *
 * Issue 17. On the embedded database, per corpus (tests/bench/rag/corpus.ts: a dense Gaussian
 * mixture like real embeddings, and the local-hash vectors) and size:
 * - load: `--ingest` chunks through KnowledgeService.ingest (batched: one transaction per
 *   batch) and the same number through one transaction per document (the path before), both
 *   with the HNSW index in place; the rest through the bulk path (binary COPY without the
 *   index), then the HNSW build, timed. With --data-dir a loaded corpus is kept in
 *   DIR/<corpus>-<size> and reused by later runs (its load figures are kept beside it).
 * - the exact top-10 of every query (a sequential scan) and, for each ef_search, the HNSW
 *   top-10's latency and recall@10 against it; a result at the 10th exact distance counts as a
 *   hit (the local-hash corpus has many equal distances, so which of the tied ids an exact scan
 *   returns is arbitrary);
 * - match_knowledge today (this tree's migrations) and before (20261122000400's body, created as
 *   public.bench_match_knowledge_v1), called the way KnowledgeStore.search calls it, in
 *   alternating rounds (old/new, then new/old): p50/p95 (the median over rounds of each round's
 *   figure), the vector recall@10 of the function itself (an empty query text: only the vector
 *   side answers) and how many of the new top-10 the old one also returns;
 * - the whole service call (KnowledgeService.search: embed + function).
 */
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000' },
    corpora: { type: 'string', default: 'dense,local-hash' },
    queries: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '5' },
    'ef-search': { type: 'string', default: '16,32,40,64,100,200' },
    ingest: { type: 'string', default: '300' },
    'data-dir': { type: 'string' },
    // With --data-dir: measure a copy in memory (as without one) instead of the files on disk.
    'in-memory': { type: 'boolean', default: false },
  },
})
const SIZES = String(args.sizes).split(',').map(Number)
const CORPORA = String(args.corpora).split(',') as CorpusKind[]
const QUERIES = Number(args.queries)
const ROUNDS = Number(args.rounds)
const EF_SEARCH = String(args['ef-search']).split(',').map(Number)
const INGEST = Number(args.ingest)
const DATA_DIR = args['data-dir']
const IN_MEMORY = Boolean(args['in-memory'])

const logger = createLogger('warn')
const fmt = (ms: number) => ms.toFixed(1)
const load1 = () => loadavg()[0]?.toFixed(2) ?? '?'

interface Top {
  ids: string[]
  distances: number[]
}

/** Hits of `approx` against the exact top-10, a tie at the 10th distance counting as a hit. */
function recall(exact: Top, approx: Top): number {
  const tenth = exact.distances[exact.distances.length - 1] ?? Number.POSITIVE_INFINITY
  const hits = approx.distances.filter((d, i) => exact.ids.includes(approx.ids[i] ?? '') || d <= tenth + 1e-9)
  return Math.min(hits.length, exact.ids.length) / Math.max(1, exact.ids.length)
}

async function topTen(
  db: Database,
  vector: string,
  model: string,
  mode: 'exact' | number,
): Promise<Top & { ms: number }> {
  return db.transaction(async (tx) => {
    await tx.exec(
      mode === 'exact'
        ? 'set local enable_indexscan = off; set local enable_bitmapscan = off'
        : `set local enable_seqscan = off; set local hnsw.ef_search = ${mode}`,
    )
    const sql = `select id, (embedding <=> $1::text::extensions.vector)::float8 as distance from public.knowledge_chunks
                  where embedding_model = $2 order by embedding <=> $1::text::extensions.vector, id limit 10`
    const plan = await tx.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, [vector, model])
    const usesIndex = plan.some((p) => p['QUERY PLAN'].includes('knowledge_chunks_embedding_hnsw'))
    if (usesIndex === (mode === 'exact'))
      throw new Error(`unexpected plan for ${mode}: ${plan[0]?.['QUERY PLAN']}`)
    const t0 = performance.now()
    const rows = await tx.query<{ id: string; distance: number }>(sql, [vector, model])
    const ms = performance.now() - t0
    // The index returns its order without the id tie-break: sort equal distances by id here.
    rows.sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id))
    return { ms, ids: rows.map((r) => r.id), distances: rows.map((r) => Number(r.distance)) }
  })
}

/** match_knowledge (or the old body) called as KnowledgeStore.search calls it. */
async function hybrid(db: Database, fn: string, q: Query, text: string, model: string) {
  const t0 = performance.now()
  const rows = await db.asService(async (tx) => {
    await tx.query(`select numnode(plainto_tsquery('english', $1))::int as nodes`, [text])
    return tx.query<{ id: string; similarity: number }>(
      `select m.id, m.content, m.metadata || jsonb_build_object('document_id', c.document_id) as metadata,
              m.similarity::float8 as similarity
         from public.${fn}($1::text::extensions.vector, $2, $3, $4, $5, $6, $7) m
         join public.knowledge_chunks c on c.id = m.id`,
      [vectorLiteral(q.vector), text, 0, 10, null, null, model],
    )
  })
  return { ms: performance.now() - t0, ids: rows.map((r) => r.id), similarity: rows.map((r) => r.similarity) }
}

async function prepare(kind: CorpusKind, size: number) {
  const dir = DATA_DIR ? join(DATA_DIR, `${kind}-${size}`) : ':memory:'
  const figuresFile = DATA_DIR ? join(dir, 'load.json') : undefined
  const reuse = figuresFile !== undefined && existsSync(figuresFile)
  const db = await openDatabase(dir, { inMemory: IN_MEMORY && reuse })
  const c = corpus(kind)
  const [row] = await db.transaction((tx) =>
    tx.query<{ n: number }>(
      'select count(*)::int as n from public.knowledge_chunks where embedding_model = $1',
      [c.model],
    ),
  )
  let figures: IngestFigures & { reused?: boolean }
  if (figuresFile && reuse && (row?.n ?? 0) >= size) {
    figures = { ...(JSON.parse(readFileSync(figuresFile, 'utf8')) as IngestFigures), reused: true }
  } else {
    figures = await load(db, c, size, { serviceChunks: 0, batch: 100, logger })
    if (figuresFile) writeFileSync(figuresFile, JSON.stringify(figures))
  }
  await createOldMatchKnowledge(db, MIGRATIONS_DIR)
  return { db, c, figures }
}

/** Chunks/s through the service (batched) and through one transaction per document (before). */
async function ingestRates(db: Database, kind: CorpusKind) {
  const run = Date.now()
  const extra = corpus(kind, 1 + (run % 1_000_000))
  const rows = [...extra.rows(INGEST * 2)].map((r) => ({ ...r, content: `${r.content} ${run}` }))
  const vectors = new Map(rows.map((r) => [r.content, r.values]))
  const embedder = extra.embedder([], vectors)
  const store = new KnowledgeStore(db)
  const knowledge = new KnowledgeService(store, embedder, logger)
  const docs = rows.map((r, i) => ({
    content: r.content,
    metadata: { title: `Extra ${i}`, source: 'bench:ingest' },
  }))
  const perDocument = docs.slice(0, INGEST)
  let t0 = performance.now()
  for (const doc of perDocument) {
    const [vector = []] = await embedder.embed([doc.content])
    await store.insertDocument(
      {
        title: doc.metadata.title,
        source: doc.metadata.source,
        contentHash: Bun.SHA256.hash(doc.content, 'hex'),
        metadata: doc.metadata,
      },
      [
        {
          index: 0,
          content: doc.content,
          metadata: { title: doc.metadata.title, kind: 'document' },
          embedding: vector,
          model: embedder.model,
        },
      ],
    )
  }
  const perDocumentRate = INGEST / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  const batched = docs.slice(INGEST)
  for (let i = 0; i < batched.length; i += 100) await knowledge.ingest(batched.slice(i, i + 100))
  const serviceRate = INGEST / ((performance.now() - t0) / 1000)
  await db.transaction((tx) =>
    tx.query(`delete from public.knowledge_documents where source = 'bench:ingest'`),
  )
  return { perDocumentRate, serviceRate }
}

console.log(`# bench rag — ${new Date().toISOString()}, load average at start ${load1()} (2 cores)\n`)
for (const size of SIZES) {
  for (const kind of CORPORA) {
    const { db, c, figures } = await prepare(kind, size)
    const queries = c.queries(QUERIES)
    const loadBefore = load1()
    const rates = INGEST > 0 ? await ingestRates(db, kind) : undefined

    // Exact top-10 and the ef_search curve, side by side per query.
    const exact: Top[] = []
    const exactMs: number[] = []
    const curve = new Map(EF_SEARCH.map((ef) => [ef, { ms: [] as number[], recall: [] as number[] }]))
    for (const q of queries) {
      const vector = vectorLiteral(q.vector)
      const e = await topTen(db, vector, c.model, 'exact')
      exact.push(e)
      exactMs.push(e.ms)
      for (const [ef, figures] of curve) {
        const a = await topTen(db, vector, c.model, ef)
        figures.ms.push(a.ms)
        figures.recall.push(recall(e, a))
      }
    }

    // Old and new hybrid search, alternating.
    const fns = { old: OLD_FUNCTION, new: 'match_knowledge' } as const
    const perRound = {
      old: { p50: [] as number[], p95: [] as number[] },
      new: { p50: [] as number[], p95: [] as number[] },
    }
    const all = { old: [] as number[], new: [] as number[] }
    let agreement = 0
    for (let round = 0; round < ROUNDS; round++) {
      const ms = { old: [] as number[], new: [] as number[] }
      for (const q of queries) {
        const order = round % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)
        const answers: Record<string, string[]> = {}
        for (const which of order) {
          const r = await hybrid(db, fns[which], q, q.text, c.model)
          ms[which].push(r.ms)
          answers[which] = r.ids
        }
        if (round === 0) {
          agreement += (answers.new ?? []).filter((id) => answers.old?.includes(id)).length / 10
        }
      }
      for (const which of ['old', 'new'] as const) {
        perRound[which].p50.push(percentile(ms[which], 50))
        perRound[which].p95.push(percentile(ms[which], 95))
        all[which].push(...ms[which])
      }
    }
    // The function's own vector recall: no query text, so only the vector side answers.
    const fnRecall = { old: [] as number[], new: [] as number[] }
    for (const [i, q] of queries.entries()) {
      for (const which of ['old', 'new'] as const) {
        const r = await hybrid(db, fns[which], q, '', c.model)
        const e = exact[i] as Top
        fnRecall[which].push(recall(e, { ids: r.ids, distances: r.similarity.map((s) => 1 - s) }))
      }
    }
    // The whole service call, as a user's search runs it.
    const knowledge = new KnowledgeService(new KnowledgeStore(db), c.embedder(queries), logger)
    const serviceMs: number[] = []
    for (let round = 0; round < 2; round++) {
      for (const q of queries) {
        const t0 = performance.now()
        await knowledge.search({ query: q.text, limit: 10, threshold: 0 })
        serviceMs.push(performance.now() - t0)
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

    console.log(
      `## ${kind} corpus, ${size.toLocaleString('en')} chunks (${c.model}), ${QUERIES} queries, ${ROUNDS} rounds`,
    )
    console.log(`load average ${loadBefore} before the measurements, ${load1()} after\n`)
    console.log('| what | p50 ms | p95 ms | recall@10 | note |')
    console.log('|---|---:|---:|---:|---|')
    console.log(
      `| exact top-10 (sequential scan) | ${fmt(median(exactMs))} | ${fmt(percentile(exactMs, 95))} | 1 | the reference |`,
    )
    for (const [ef, f] of curve) {
      console.log(
        `| HNSW top-10, ef_search ${ef} | ${fmt(median(f.ms))} | ${fmt(percentile(f.ms, 95))} | ${mean(f.recall).toFixed(3)} | min ${Math.min(...f.recall).toFixed(1)} |`,
      )
    }
    for (const which of ['old', 'new'] as const) {
      console.log(
        `| match_knowledge ${which === 'old' ? 'before (20261122000400)' : 'now (20261201000900)'} | ${fmt(median(perRound[which].p50))} | ${fmt(median(perRound[which].p95))} | ${mean(fnRecall[which]).toFixed(3)} | all calls: p50 ${fmt(median(all[which]))}, p95 ${fmt(percentile(all[which], 95))}; round p95s ${perRound[which].p95.map(fmt).join(' ')} |`,
      )
    }
    console.log(
      `| KnowledgeService.search (embed + new function) | ${fmt(median(serviceMs))} | ${fmt(percentile(serviceMs, 95))} | | 2 rounds |`,
    )
    console.log(`\nhybrid top-10 agreement, new vs old: ${(agreement / QUERIES).toFixed(3)}`)
    const f = figures
    console.log(
      `load: bulk ${f.bulkChunks.toLocaleString('en')} chunks by binary COPY without the index in ${f.bulkSeconds.toFixed(0)} s (${(f.bulkChunks / f.bulkSeconds).toFixed(0)} chunks/s), then HNSW build ${f.hnswSeconds.toFixed(0)} s${f.reused ? ' (loaded by an earlier run, reused)' : ''}`,
    )
    if (rates) {
      console.log(
        `ingest with the index in place (${INGEST} one-chunk documents each): service, batched ${rates.serviceRate.toFixed(0)} chunks/s; one transaction per document ${rates.perDocumentRate.toFixed(0)} chunks/s\n`,
      )
    }
    await db.close()
  }
}
process.exit(0)
