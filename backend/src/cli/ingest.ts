import { readFileSync, statSync } from 'node:fs'
import { basename, extname, relative } from 'node:path'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { loadConfig } from '@/config'
import { MIGRATIONS_DIR } from '@/container'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'
import { createLogger } from '@/lib/log'
import { createEmbedder } from '@/lib/rag/create-embedder'
import { type IngestDocument, KnowledgeService } from '@/services/knowledge/service'
import { KnowledgeStore } from '@/services/knowledge/store'
import { MODES, type Mode, PILLAR_IDS, PILLARS, type PillarId } from '@/services/pilar/framework'

// `bun run ingest [--pillar id] [--mode m] <files…>`: adds markdown/text files to the knowledge
// base of the configured database (chunked, embedded, idempotent by content hash).

const USAGE =
  'Usage: bun run ingest [--pillar <pillar_id>] [--mode <egalitarian|hierarchical>] <file.md|file.txt>…'
const BATCH = 20

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      options: {
        pillar: { type: 'string' },
        mode: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    })
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
  }
})()
if (values.help || positionals.length === 0) fail(USAGE)
const pillar = values.pillar as PillarId | undefined
const mode = values.mode as Mode | undefined
if (pillar && !PILLAR_IDS.includes(pillar)) fail(`--pillar must be one of ${PILLAR_IDS.join(', ')}`)
if (mode && !MODES.includes(mode)) fail(`--mode must be one of ${MODES.join(', ')}`)
if (pillar && mode && PILLARS[pillar].mode !== mode)
  fail(`${pillar} is a pillar of the ${PILLARS[pillar].mode} mode`)

const documents: IngestDocument[] = positionals.map((file) => {
  if (!['.md', '.markdown', '.txt'].includes(extname(file).toLowerCase()))
    fail(`${file}: only .md and .txt files`)
  let content: string
  try {
    if (statSync(file).size > 200_000) fail(`${file}: larger than 200,000 bytes; split it first`)
    content = readFileSync(file, 'utf8')
  } catch (error) {
    return fail(`${file}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const heading = /^#\s+(.+)$/m.exec(content)?.[1]?.trim()
  return {
    content,
    metadata: {
      title: heading ?? basename(file, extname(file)),
      source: relative(process.cwd(), file),
      ...(pillar ? { pillar_id: pillar, mode: PILLARS[pillar].mode } : mode ? { mode } : {}),
    },
  }
})

const parsed = loadConfig(process.env)
if (!parsed.ok) fail(`Invalid configuration:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`)
const config = parsed.config
const logger = createLogger('warn')
const db = await openDatabase(config.database).catch((error: unknown) =>
  fail(
    `${error instanceof Error ? error.message : String(error)}\n` +
      'While the server runs on the embedded database, ingest through POST /api/v1/rag/ingest instead.',
  ),
)
try {
  await migrate(db, readMigrations(MIGRATIONS_DIR))
  const knowledge = new KnowledgeService(
    new KnowledgeStore(db),
    await createEmbedder(config.embeddings, logger),
    logger,
  )
  const bar = new cliProgress.SingleBar(
    { format: 'ingest [{bar}] {value}/{total} files | {chunks} chunks', hideCursor: true },
    cliProgress.Presets.shades_classic,
  )
  bar.start(documents.length, 0, { chunks: 0 })
  const total = { documents: 0, chunks: 0, skipped_duplicates: 0, embedding_model: null as string | null }
  for (let i = 0; i < documents.length; i += BATCH) {
    const result = await knowledge.ingest(documents.slice(i, i + BATCH), (done) =>
      bar.update(i + done, { chunks: total.chunks }),
    )
    total.documents += result.documents
    total.chunks += result.chunks
    total.skipped_duplicates += result.skipped_duplicates
    total.embedding_model = result.embedding_model ?? total.embedding_model
    bar.update(Math.min(i + BATCH, documents.length), { chunks: total.chunks })
  }
  bar.stop()
  console.log(
    `Stored ${total.documents} document(s), ${total.chunks} chunk(s); ${total.skipped_duplicates} duplicate(s) skipped; ` +
      `embeddings: ${
        total.chunks === 0
          ? 'nothing new to embed'
          : (total.embedding_model ?? 'none (embedder unavailable; vectors are added at the next start)')
      }.`,
  )
} finally {
  await db.close()
}
