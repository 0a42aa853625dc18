import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median, percentile, seeded } from '@tests/bench/stats'
import { GENEROUS_LIMITS } from '@tests/helpers/app'
import { freePort } from '@tests/helpers/ports'
import { loadConfig } from '@/config'
import { MIGRATIONS_DIR } from '@/container'
import { signLocalToken } from '@/lib/auth/local-tokens'
import type { Database, Tx } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'
import { decodeCursor } from '@/lib/http/pagination'
import { ContentStore, type ListFilter } from '@/services/content/store'

/**
 * bun run bench content [--items 10000] [--rounds 3] [--requests 400] [--concurrency 16]
 *                       [--max-seconds 8] [--publishes 5] [--seed 15]
 *
 * ITEMS published items (varied kinds, tags, pillars; 2–5 KB of prose each) are written in SQL
 * as the owner before the server starts, and not put in the knowledge base by the bench. The
 * server itself does, in part: right after start-up index.ts runs `content.indexMissing(10)` in the
 * background (up to 10 published items without a knowledge document, oldest first; the hourly
 * job takes 100 at a time), then `analyze` (PGlite has no autovacuum), and no setting skips it. It shares the one PGlite connection with the
 * requests, so the bench watches the server's log and measures only once the start-up batch
 * has finished ("content indexed" lines, then quiet); it reports how many and how long, and
 * checks the `content:` documents afterwards.
 *
 * Then, against the real server (embedded database), anonymous unless said otherwise, each
 * scenario at 1 and CONCURRENCY in flight, in alternating rounds (medians of ROUNDS):
 * 1. GET /api/v1/content (default limit 20), with ?tag=, page 50 by cursor, and with a user's
 *    token (RLS read);
 * 2. GET /api/v1/content?q= a common word and a rare one (full text);
 * 3. GET /api/v1/content/:slug: the full 200 vs If-None-Match → 304 (cycling over 200 slugs);
 * 4. publish-to-searchable: an admin creates a draft with a unique sentence and publishes it;
 *    POST /api/v1/rag/query {query: the sentence} is polled until the item is among the results
 *    (default local embedder). Median of PUBLISHES.
 * Each measurement is bounded by a request count and by MAX_SECONDS.
 */
const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    'max-seconds': { type: 'string', default: '8' },
    publishes: { type: 'string', default: '5' },
    seed: { type: 'string', default: '15' },
  },
})
const ITEMS = Number(args.items)
const ROUNDS = Number(args.rounds)
const REQUESTS = Number(args.requests)
const CONCURRENCY = Number(args.concurrency)
const MAX_MS = Number(args['max-seconds']) * 1000
const PUBLISHES = Number(args.publishes)
const GOAL_P95_MS = 10
const SECRET = 'bench-local-secret-0123456789-abcdefgh'
const COMMON_WORD = 'team'
const RARE_WORD = 'serendipity'
const RARE_ITEMS = 6
const FILTER_TAG = 'retrospectives'
const CURSOR_PAGE = 50
const SLUGS_CYCLED = 200

// ---------------------------------------------------------------------------------------------
// Figures

interface Figures {
  count: number
  p50: number
  p95: number
  p99: number
  perSecond: number
  /** Answers other than the expected status. */
  unexpected: number
  /** Mean response body size, bytes. */
  bytes: number
}
/** The median of each figure over the rounds (a noisy 2-core machine: one round proves little). */
const medianFigures = (runs: Figures[]): Figures => ({
  count: median(runs.map((r) => r.count)),
  p50: median(runs.map((r) => r.p50)),
  p95: median(runs.map((r) => r.p95)),
  p99: median(runs.map((r) => r.p99)),
  perSecond: median(runs.map((r) => r.perSecond)),
  unexpected: runs.reduce((sum, r) => sum + r.unexpected, 0),
  bytes: median(runs.map((r) => r.bytes)),
})
const ms = (value: number) => value.toFixed(2).padStart(8)

const random = seeded(Number(args.seed))
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))

/** Draws from `list` with Zipf weights (rank r ∝ 1/r^s): a few words everywhere, a long tail. */
function zipf<T>(list: readonly T[], s = 1): () => T {
  const cumulative: number[] = []
  let total = 0
  for (let r = 1; r <= list.length; r++) {
    total += 1 / r ** s
    cumulative.push(total)
  }
  return () => {
    const x = random() * total
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cumulative[mid] as number) < x) lo = mid + 1
      else hi = mid
    }
    return list[lo] as T
  }
}

// ---------------------------------------------------------------------------------------------
// A corpus of prose about groups at work: real English words (so the English stemmer and the
// GIN index see realistic terms), common ones in nearly every item, a long tail in few.

const NOUNS = zipf([
  COMMON_WORD,
  'group',
  'meeting',
  'feedback',
  'trust',
  'manager',
  'decision',
  'project',
  'colleague',
  'goal',
  'question',
  'idea',
  'mistake',
  'member',
  'leader',
  'plan',
  'review',
  'role',
  'norm',
  'priority',
  'conversation',
  'deadline',
  'customer',
  'process',
  'risk',
  'culture',
  'practice',
  'agreement',
  'conflict',
  'signal',
  'voice',
  'reward',
  'promotion',
  'credit',
  'favor',
  'information',
  'budget',
  'tool',
  'habit',
  'newcomer',
  'standup',
  'retrospective',
  'department',
  'career',
  'hierarchy',
  'peer',
  'mentor',
  'title',
  'ledger',
  'incentive',
  'reputation',
  'visibility',
  'consensus',
  'dissent',
  'belonging',
  'warmth',
  'authority',
  'advantage',
  'accountability',
  'vision',
  'handover',
  'onboarding',
  'facilitator',
  'whiteboard',
  'spreadsheet',
  'roadmap',
  'milestone',
  'workshop',
  'offsite',
  'backlog',
  'incident',
  'postmortem',
  'apprentice',
  'guild',
  'committee',
  'charter',
  'compass',
  'lighthouse',
  'orchestra',
  'harbour',
])
const VERBS = zipf([
  'shares',
  'asks',
  'builds',
  'notices',
  'supports',
  'challenges',
  'decides',
  'explains',
  'rewards',
  'ignores',
  'admits',
  'repairs',
  'rotates',
  'delegates',
  'praises',
  'questions',
  'measures',
  'protects',
  'welcomes',
  'trades',
  'hoards',
  'credits',
  'reframes',
  'escalates',
  'postpones',
  'celebrates',
  'documents',
  'negotiates',
  'mentors',
  'undermines',
])
const ADJECTIVES = zipf([
  'shared',
  'open',
  'clear',
  'quiet',
  'formal',
  'informal',
  'honest',
  'small',
  'early',
  'safe',
  'vague',
  'new',
  'senior',
  'junior',
  'weekly',
  'difficult',
  'useful',
  'hidden',
  'fragile',
  'generous',
  'cautious',
  'ambitious',
  'predictable',
  'unspoken',
  'lopsided',
  'reciprocal',
  'collective',
  'personal',
  'remote',
  'distributed',
])
const OPENERS = zipf([
  '',
  'In practice, ',
  'Over time, ',
  'For example, ',
  'Often ',
  'Sometimes ',
  'In many groups ',
  'After a while ',
  'Quietly, ',
  'By contrast, ',
  'Under pressure ',
  'Paradoxically, ',
])
const PREPOSITIONS = ['for', 'with', 'about', 'during', 'after', 'before', 'without', 'around', 'despite']

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)
const TEMPLATES: (() => string)[] = [
  () =>
    `${OPENERS()}the ${ADJECTIVES()} ${NOUNS()} ${VERBS()} the ${NOUNS()} ${pick(PREPOSITIONS)} the ${NOUNS()}.`,
  () =>
    `${OPENERS()}a ${NOUNS()} that ${VERBS()} every ${NOUNS()} soon ${VERBS()} its own ${ADJECTIVES()} ${NOUNS()}.`,
  () =>
    `When the ${NOUNS()} ${VERBS()} a ${ADJECTIVES()} ${NOUNS()}, the ${NOUNS()} ${VERBS()} the ${NOUNS()} ${pick(PREPOSITIONS)} the ${NOUNS()} as well.`,
  () =>
    `${OPENERS()}nobody ${VERBS().replace(/s$/, '')}s the ${NOUNS()} ${pick(PREPOSITIONS)} a ${ADJECTIVES()} ${NOUNS()}, and the ${NOUNS()} pays for it.`,
  () =>
    `${OPENERS()}the ${NOUNS()} and the ${NOUNS()} are ${ADJECTIVES()}, yet the ${NOUNS()} stays ${ADJECTIVES()}.`,
]
const sentence = () => capital(pick(TEMPLATES)())
const paragraph = () => Array.from({ length: between(3, 6) }, sentence).join(' ')
const titleText = () =>
  Array.from({ length: between(4, 8) }, (_, i) =>
    i % 2 === 0 ? capital(ADJECTIVES()) : capital(NOUNS()),
  ).join(' ')

/** Markdown prose of about `target` characters: headed sections of paragraphs, a list now and then. */
function body(target: number, extra?: string): string {
  const parts: string[] = []
  let length = 0
  const push = (text: string) => {
    parts.push(text)
    length += text.length + 2
  }
  push(`## ${titleText()}`)
  if (extra) push(`${paragraph()} ${extra} ${sentence()}`)
  while (length < target) {
    const roll = random()
    if (roll < 0.12) push(`## ${titleText()}`)
    else if (roll < 0.2) push(Array.from({ length: between(2, 4) }, () => `- ${sentence()}`).join('\n'))
    else push(paragraph())
  }
  return parts.join('\n\n')
}

const TAGS = zipf([
  'feedback',
  'leadership',
  FILTER_TAG,
  'psychological-safety',
  'meetings',
  'onboarding',
  'remote-work',
  'decision-making',
  'conflict',
  'recognition',
  'careers',
  'mentoring',
  'strategy',
  'culture',
  'trust',
  'delegation',
  'accountability',
  'goals',
  'communication',
  'incentives',
  'promotion',
  'status',
  'reciprocity',
  'norms',
  'team-rounds',
  'coaching',
  'research',
  'case-study',
  'hiring',
  'rituals',
])
const PILLAR_IDS = [
  'divsexp',
  'indrecip',
  'popularity',
  'grpprosp',
  'outresp',
  'normexp',
  'dirrecip',
  'status',
  'ownprosp',
  'incresp',
]
const KINDS = zipf(['blog', 'resource', 'page'])
const distinct = (n: number, draw: () => string) => {
  const set = new Set<string>()
  for (let tries = 0; set.size < n && tries < 50; tries++) set.add(draw())
  return [...set]
}

interface Item {
  slug: string
  kind: string
  title: string
  summary: string
  body: string
  pillar_ids: string[]
  tags: string[]
  published_at: string
  created_at: string
  updated_at: string
}

function item(i: number, now: number, rare: boolean): Item {
  const title = titleText()
  // Two years of publishing, oldest first, a little jitter so the keyset sees real timestamps.
  const published = now - 2 * 365 * 86_400_000 + (i / ITEMS) * 2 * 365 * 86_400_000 + random() * 60_000
  const created = published - random() * 30 * 86_400_000
  const updated = Math.min(now - 1_000, published + (random() < 0.3 ? random() * 10 * 86_400_000 : 0))
  let summary = `${sentence()} ${sentence()}`
  if (summary.length > 480) summary = `${summary.slice(0, 477)}...`
  const slugWords = title.toLowerCase().split(' ').slice(0, 4).join('-')
  return {
    slug: `${slugWords}-${i}`,
    kind: KINDS(),
    title,
    summary,
    body: body(
      between(2_000, 5_000),
      rare ? `A moment of ${RARE_WORD} changed how the ${NOUNS()} ran its reviews.` : undefined,
    ),
    pillar_ids: distinct(between(0, 3), () => pick(PILLAR_IDS)),
    tags: distinct(between(1, 5), TAGS),
    published_at: new Date(published).toISOString(),
    created_at: new Date(created).toISOString(),
    updated_at: new Date(updated).toISOString(),
  }
}

async function prepare(db: Database) {
  const now = Date.now()
  const rareAt = new Set(
    Array.from({ length: RARE_ITEMS }, (_, k) => Math.floor(((k + 0.5) * ITEMS) / RARE_ITEMS)),
  )
  let bytes = 0
  const BATCH = 250
  for (let start = 0; start < ITEMS; start += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, ITEMS - start) }, (_, k) =>
      item(start + k, now, rareAt.has(start + k)),
    )
    bytes += rows.reduce((sum, r) => sum + r.body.length, 0)
    await db.transaction((tx) =>
      tx.query(
        `insert into public.content (slug, kind, title, summary, body, pillar_ids, tags, status,
                                     published_at, created_at, updated_at)
         select r.slug, r.kind, r.title, r.summary, r.body, r.pillar_ids, r.tags, 'published',
                r.published_at, r.created_at, r.updated_at
           from jsonb_to_recordset($1::text::jsonb)
             as r(slug text, kind text, title text, summary text, body text, pillar_ids text[],
                  tags text[], published_at timestamptz, created_at timestamptz, updated_at timestamptz)`,
        [JSON.stringify(rows)],
      ),
    )
  }
  const count = async (where: string, params: unknown[] = []) => {
    const [row] = await db.transaction((tx) =>
      tx.query<{ n: number }>(
        `select count(*)::int as n from public.content where status = 'published' and ${where}`,
        params,
      ),
    )
    return row?.n ?? 0
  }
  return {
    published: await count('true'),
    meanBody: bytes / ITEMS,
    tag: await count('tags @> array[$1]::text[]', [FILTER_TAG]),
    common: await count(`search @@ websearch_to_tsquery('english', $1)`, [COMMON_WORD]),
    rare: await count(`search @@ websearch_to_tsquery('english', $1)`, [RARE_WORD]),
  }
}

// ---------------------------------------------------------------------------------------------
// Load

interface Request {
  url: string
  headers?: Record<string, string>
}

/**
 * Up to `total` requests made by `make(i)`, `level` in flight, stopping early after MAX_MS; any
 * status but `expect` is counted (and one such answer printed) instead of thrown.
 */
async function load(make: (i: number) => Request, level: number, total: number, expect: number) {
  const latencies: number[] = []
  let unexpected = 0
  let bytes = 0
  let next = 0
  const started = performance.now()
  const deadline = started + MAX_MS
  await Promise.all(
    Array.from({ length: level }, async () => {
      while (next < total && performance.now() < deadline) {
        const { url, headers } = make(next++)
        const t0 = performance.now()
        let response: Response
        try {
          response = await fetch(url, { headers })
        } catch (error) {
          throw new Error(`GET ${url} failed after ${latencies.length} of ${total} (${level} in flight)`, {
            cause: error,
          })
        }
        const answer = await response.arrayBuffer()
        latencies.push(performance.now() - t0)
        bytes += answer.byteLength
        if (response.status !== expect) {
          if (unexpected++ === 0)
            console.error(
              `GET ${url} → ${response.status}: ${new TextDecoder().decode(answer).slice(0, 200)}`,
            )
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  return {
    count: latencies.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    perSecond: latencies.length / seconds,
    unexpected,
    bytes: latencies.length ? bytes / latencies.length : 0,
  } satisfies Figures
}

interface WatchedServer {
  base: string
  /** When the process was spawned (performance.now()). */
  spawnedAt: number
  /** "content indexed" log lines so far, and when the last one came (performance.now()). */
  indexed: () => { count: number; lastAt: number }
  stop(): Promise<void>
}

/**
 * The real server process, as tests/helpers/bench-server.ts spawns it, but with its log read:
 * the bench needs to know when the start-up content indexing is done.
 */
async function spawnWatchedServer(env: Record<string, string>): Promise<WatchedServer> {
  const port = freePort()
  const spawnedAt = performance.now()
  const child = Bun.spawn(['bun', 'backend/src/index.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...GENEROUS_LIMITS, ...env },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  let count = 0
  let lastAt = 0
  const reading = (async () => {
    const decoder = new TextDecoder()
    let pending = ''
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true })
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        if (line.includes('"msg":"content indexed"')) {
          count++
          lastAt = performance.now()
        }
      }
    }
  })()
  const base = `http://127.0.0.1:${port}`
  for (;;) {
    const up = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    await Bun.sleep(50)
  }
  return {
    base,
    spawnedAt,
    indexed: () => ({ count, lastAt }),
    async stop() {
      child.kill('SIGTERM')
      await child.exited
      await reading
    },
  }
}

/**
 * Waits until the server's start-up indexing is over: no "content indexed" line for QUIET ms
 * (and none at all within FIRST ms means there was nothing to index). At most LIMIT ms.
 */
async function startupIndexingDone(server: WatchedServer) {
  const QUIET = 3_000
  const FIRST = 10_000
  const LIMIT = 300_000
  const started = performance.now()
  for (;;) {
    const { count, lastAt } = server.indexed()
    const now = performance.now()
    if (count === 0 && now - started > FIRST) break
    if (count > 0 && now - lastAt > QUIET) break
    if (now - started > LIMIT) throw new Error(`start-up indexing still going after ${LIMIT / 1000} s`)
    await Bun.sleep(100)
  }
  const { count, lastAt } = server.indexed()
  return { count, lastAfterSpawnMs: count > 0 ? lastAt - server.spawnedAt : 0 }
}

/**
 * The database, but every statement a store runs is EXPLAIN ANALYZEd instead (and answers no
 * rows): the plans of the very SQL the server runs, without copying it here.
 */
function explaining(db: Database, plans: string[][]): Database {
  const wrap = (tx: Tx): Tx => ({
    query: async <Row>(sql: string, params?: readonly unknown[]) => {
      const rows = await tx.query<{ 'QUERY PLAN': string }>(
        `explain (analyze, costs off, summary on) ${sql}`,
        params,
      )
      plans.push(rows.map((r) => r['QUERY PLAN']))
      return [] as Row[]
    },
    exec: (sql) => tx.exec(sql),
  })
  return {
    ...db,
    asService: (fn) => db.asService((tx) => fn(wrap(tx))),
    asUser: (claims, fn) => db.asUser(claims, (tx) => fn(wrap(tx))),
  }
}

/** A plan in one line: its nodes, outermost first, and the execution time. */
function planLine(plan: readonly string[]): string {
  const nodes = plan
    .filter((line, i) => i === 0 || line.trimStart().startsWith('->'))
    .map((line) =>
      line
        .replace(/^\s*->\s*/, '')
        .replace(/\s*\(actual.*$/, '')
        .replace(/ on content c$/, '')
        .trim(),
    )
  const time = plan.find((line) => line.startsWith('Execution Time'))?.replace('Execution Time: ', '')
  return `${nodes.join(' → ')}  [${time ?? '?'}]`
}

const openDb = async (dataDir: string) => {
  const parsed = loadConfig({ DATA_DIR: dataDir })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  return openDatabase(parsed.config.database)
}

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init)
  return { status: response.status, body: (await response.json()) as T }
}

// ---------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-content-'))
const say = (line = '') => console.log(line)

interface Scenario {
  label: string
  make: (i: number) => Request
  expect: number
  /** Also measured again after ANALYZE (the list and full-text reads: their plans depend on it). */
  planned: boolean
}
type Results = Map<string, { label: string; level: number; runs: Figures[] }>

/** Every scenario at 1 and CONCURRENCY in flight, ROUNDS times, alternating; after a warm-up. */
async function measure(scenarios: readonly Scenario[]): Promise<Results> {
  const results: Results = new Map()
  const levels = [
    { level: 1, total: REQUESTS },
    { level: CONCURRENCY, total: REQUESTS * 3 },
  ]
  for (const s of scenarios) await load(s.make, 4, 50, s.expect)
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of scenarios) {
      for (const { level, total } of levels) {
        const key = `${s.label}@${level}`
        const entry = results.get(key) ?? { label: s.label, level, runs: [] }
        entry.runs.push(await load(s.make, level, total, s.expect))
        results.set(key, entry)
      }
    }
  }
  return results
}

/** The plans of the store's list and reads, run as the server runs them (anonymous). */
async function explainReads(db: Database, cursor: string, slug: string) {
  const raw: string[][] = []
  const store = new ContentStore(explaining(db, raw))
  const anonymous = { claims: undefined, admin: false }
  const list = (extra: Partial<ListFilter>) =>
    store.list(anonymous, { status: 'published', limit: 20, ...extra })
  const cases: [string, () => Promise<unknown>][] = [
    ['list (limit 20)', () => list({})],
    [`list ?tag=${FILTER_TAG}`, () => list({ tag: FILTER_TAG })],
    [`list page ${CURSOR_PAGE} (cursor)`, () => list({ after: decodeCursor(cursor) })],
    [`q=${COMMON_WORD}`, () => list({ q: COMMON_WORD })],
    [`q=${RARE_WORD}`, () => list({ q: RARE_WORD })],
    ['GET /:slug (bySlug)', () => store.bySlug(anonymous, slug)],
    ['If-None-Match (headBySlug)', () => store.headBySlug(anonymous, slug)],
  ]
  const lines: { label: string; line: string }[] = []
  for (const [label, run] of cases) {
    await run()
    raw.length = 0
    await run()
    lines.push({ label, line: raw[0] ? planLine(raw[0]) : '?' })
  }
  return lines
}

const scalar = async (db: Database, sql: string) => {
  const [row] = await db.transaction((tx) => tx.query<{ n: number }>(sql))
  return row?.n ?? -1
}
const statisticsOf = (db: Database) =>
  scalar(db, `select count(*)::int as n from pg_stats where schemaname = 'public' and tablename = 'content'`)

try {
  const prepStarted = performance.now()
  const setup = await openDb(dataDir)
  await migrate(setup, readMigrations(MIGRATIONS_DIR))
  const corpus = await prepare(setup)
  await setup.close()
  say(
    `prepared ${corpus.published} published items (${ITEMS} bench + the seed pages; mean body ${(corpus.meanBody / 1024).toFixed(1)} KB) in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s; ` +
      `tag "${FILTER_TAG}" on ${corpus.tag}, "${COMMON_WORD}" in ${corpus.common}, "${RARE_WORD}" in ${corpus.rare}`,
  )

  const adminToken = await signLocalToken(SECRET, {
    email: 'admin@bench.test',
    admin: true,
    ttlSeconds: 3_600,
  })
  const userToken = await signLocalToken(SECRET, { email: 'reader@bench.test', ttlSeconds: 3_600 })
  const adminHeaders = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }
  const userHeaders = { authorization: `Bearer ${userToken}` }

  /** Scenarios over the server at `base`; `cursor` and `slugs` found through it first. */
  const scenariosFor = (api: string, cursor: string, slugs: readonly { slug: string; etag: string }[]) => {
    const slugAt = (i: number) => slugs[i % slugs.length] as { slug: string; etag: string }
    return [
      { label: 'list (limit 20)', make: () => ({ url: api }), expect: 200, planned: true },
      {
        label: `list ?tag=${FILTER_TAG}`,
        make: () => ({ url: `${api}?tag=${FILTER_TAG}` }),
        expect: 200,
        planned: true,
      },
      {
        label: `list page ${CURSOR_PAGE} (cursor)`,
        make: () => ({ url: `${api}?cursor=${cursor}` }),
        expect: 200,
        planned: true,
      },
      {
        label: 'list, user token (RLS)',
        make: () => ({ url: api, headers: userHeaders }),
        expect: 200,
        planned: true,
      },
      {
        label: `q=${COMMON_WORD} (common)`,
        make: () => ({ url: `${api}?q=${COMMON_WORD}` }),
        expect: 200,
        planned: true,
      },
      {
        label: `q=${RARE_WORD} (rare)`,
        make: () => ({ url: `${api}?q=${RARE_WORD}` }),
        expect: 200,
        planned: true,
      },
      {
        label: 'GET /:slug full 200',
        make: (i: number) => ({ url: `${api}/${slugAt(i).slug}` }),
        expect: 200,
        planned: false,
      },
      {
        label: 'GET /:slug If-None-Match 304',
        make: (i: number) => ({
          url: `${api}/${slugAt(i).slug}`,
          headers: { 'if-none-match': slugAt(i).etag },
        }),
        expect: 304,
        planned: false,
      },
    ] satisfies Scenario[]
  }

  /** The cursor of page CURSOR_PAGE, walked through the real list once. */
  const walkToPage = async (api: string) => {
    let cursor: string | null = null
    for (let page = 1; page < CURSOR_PAGE; page++) {
      const query: string = cursor ? `?cursor=${cursor}` : ''
      const { body } = await getJson<{ next_cursor: string | null }>(`${api}${query}`)
      cursor = body.next_cursor
      if (!cursor) throw new Error(`the list ended before page ${CURSOR_PAGE}`)
    }
    return cursor as string
  }

  /** SLUGS_CYCLED slugs from the newest full-text matches and from page CURSOR_PAGE on, with their tags. */
  const pickSlugs = async (api: string, cursor: string) => {
    const { body } = await getJson<{ data: { slug: string }[] }>(`${api}?limit=100&q=${COMMON_WORD}`)
    let found = body.data.map((d) => d.slug)
    let after: string | null = cursor
    while (found.length < SLUGS_CYCLED && after) {
      const page: { body: { data: { slug: string }[]; next_cursor: string | null } } = await getJson(
        `${api}?limit=100&cursor=${after}`,
      )
      found = [...found, ...page.body.data.map((d) => d.slug)]
      after = page.body.next_cursor
    }
    const slugs: { slug: string; etag: string }[] = []
    for (const slug of found.slice(0, SLUGS_CYCLED)) {
      const response = await fetch(`${api}/${slug}`)
      await response.arrayBuffer()
      const etag = response.headers.get('etag')
      if (response.status !== 200 || !etag) throw new Error(`GET ${slug} → ${response.status}, etag ${etag}`)
      slugs.push({ slug, etag })
    }
    return slugs
  }

  // ---- A: the database as the server leaves it -------------------------------------------------
  const publishRuns: { createMs: number; publishMs: number; searchableMs: number; polls: number }[] = []
  const boots: { phase: string; healthMs: number; indexed: number; lastAfterSpawnMs: number }[] = []
  let resultsA: Results = new Map()
  let cursor = ''
  let probeSlug = ''
  {
    const server = await spawnWatchedServer({ DATA_DIR: dataDir, LOCAL_JWT_SECRET: SECRET })
    const healthMs = performance.now() - server.spawnedAt
    const startup = await startupIndexingDone(server)
    boots.push({ phase: 'A', healthMs, indexed: startup.count, lastAfterSpawnMs: startup.lastAfterSpawnMs })
    const api = `${server.base}/api/v1/content`
    try {
      cursor = await walkToPage(api)
      const slugs = await pickSlugs(api, cursor)
      probeSlug = slugs[0]?.slug ?? ''
      resultsA = await measure(scenariosFor(api, cursor, slugs))

      // Publish to searchable.
      for (let p = 0; p < PUBLISHES; p++) {
        const marker = crypto.randomUUID().replaceAll('-', '').slice(0, 10)
        const unique = `The quarterly lantern ritual of guild kx${marker} taught every apprentice to hand over the compass before midnight.`
        const t0 = performance.now()
        const created = await getJson<{ content: { id: string } }>(api, {
          method: 'POST',
          headers: adminHeaders,
          body: JSON.stringify({
            title: `Publish probe ${p + 1} ${marker}`,
            kind: 'blog',
            summary: 'A benchmark probe.',
            body: body(3_000, unique),
            tags: ['research'],
            pillar_ids: ['grpprosp'],
          }),
        })
        if (created.status !== 201) throw new Error(`create → ${created.status}`)
        const id = created.body.content.id
        const t1 = performance.now()
        const published = await fetch(`${api}/${id}/publish`, { method: 'POST', headers: adminHeaders })
        await published.arrayBuffer()
        if (published.status !== 200) throw new Error(`publish → ${published.status}`)
        const t2 = performance.now()
        let polls = 0
        for (;;) {
          polls++
          const found = await getJson<{ results: { metadata: { source?: string } }[] }>(
            `${server.base}/api/v1/rag/query`,
            { method: 'POST', headers: adminHeaders, body: JSON.stringify({ query: unique }) },
          )
          if (found.status !== 200) throw new Error(`rag/query → ${found.status}`)
          if (found.body.results.some((x) => x.metadata.source === `content:${id}`)) break
          if (performance.now() - t1 > 30_000) throw new Error('not searchable after 30 s')
          await Bun.sleep(5)
        }
        publishRuns.push({
          createMs: t1 - t0,
          publishMs: t2 - t1,
          searchableMs: performance.now() - t1,
          polls,
        })
      }
    } finally {
      await server.stop()
    }
  }

  // ---- In-process: plans as the server saw them, then ANALYZE --------------------------------
  let statsBefore = -1
  let statsAfter = -1
  let plansA: { label: string; line: string }[] = []
  let plansB: { label: string; line: string }[] = []
  let analyzeMs = 0
  {
    const db = await openDb(dataDir)
    try {
      statsBefore = await statisticsOf(db)
      plansA = await explainReads(db, cursor, probeSlug)
      const t0 = performance.now()
      await db.transaction((tx) => tx.exec('analyze public.content'))
      analyzeMs = performance.now() - t0
      statsAfter = await statisticsOf(db)
      plansB = await explainReads(db, cursor, probeSlug)
    } finally {
      await db.close()
    }
  }

  // ---- B: the list and full-text reads again, with planner statistics ------------------------
  let resultsB: Results = new Map()
  {
    const server = await spawnWatchedServer({ DATA_DIR: dataDir, LOCAL_JWT_SECRET: SECRET })
    const healthMs = performance.now() - server.spawnedAt
    const startup = await startupIndexingDone(server)
    boots.push({ phase: 'B', healthMs, indexed: startup.count, lastAfterSpawnMs: startup.lastAfterSpawnMs })
    const api = `${server.base}/api/v1/content`
    try {
      resultsB = await measure(scenariosFor(api, cursor, []).filter((s) => s.planned))
    } finally {
      await server.stop()
    }
  }
  let contentDocuments = -1
  {
    const db = await openDb(dataDir)
    try {
      contentDocuments = await scalar(
        db,
        `select count(*)::int as n from public.knowledge_documents where source like 'content:%'`,
      )
    } finally {
      await db.close()
    }
  }

  // ---- Report --------------------------------------------------------------------------------
  for (const boot of boots) {
    say(
      `server ${boot.phase}: /health answered ${(boot.healthMs / 1000).toFixed(1)} s after spawn; its start-up indexing (content.indexMissing; no setting skips it) put ${boot.indexed} items into the knowledge base, the last ${(boot.lastAfterSpawnMs / 1000).toFixed(1)} s after spawn; measured after it finished`,
    )
  }
  say()
  say(
    `Content reads over HTTP (real server, embedded database, anonymous unless noted); medians of ${ROUNDS} alternating rounds, each ≤ ${REQUESTS} (1 in flight) or ${REQUESTS * 3} requests and ≤ ${MAX_MS / 1000} s`,
  )
  say(
    `  A = as the server leaves the database (it analyzes at start-up); B = after another ANALYZE public.content here`,
  )
  say(
    '  scenario                        conc   reqs  A p50 ms  A p95 ms  A p99 ms   A req/s  bytes bad |  B p50 ms  B p95 ms   B req/s',
  )
  const medianOf = (results: Results, key: string) => {
    const runs = results.get(key)?.runs
    return runs ? medianFigures(runs) : undefined
  }
  for (const [key, { label, level, runs }] of resultsA) {
    const f = medianFigures(runs)
    const b = medianOf(resultsB, key)
    say(
      `  ${label.padEnd(31)} ${String(level).padStart(4)} ${String(f.count).padStart(6)}  ${ms(f.p50)}  ${ms(f.p95)}  ${ms(f.p99)}  ${f.perSecond.toFixed(0).padStart(8)} ${f.bytes.toFixed(0).padStart(6)} ${String(f.unexpected).padStart(3)} |` +
        (b
          ? `  ${ms(b.p50)}  ${ms(b.p95)}  ${b.perSecond.toFixed(0).padStart(8)}`
          : '         —         —         —'),
    )
  }
  const at = (label: string, level: number, results = resultsA) =>
    medianOf(results, `${label}@${level}`) ?? medianFigures([])
  const full1 = at('GET /:slug full 200', 1)
  const cond1 = at('GET /:slug If-None-Match 304', 1)
  const fullN = at('GET /:slug full 200', CONCURRENCY)
  const condN = at('GET /:slug If-None-Match 304', CONCURRENCY)
  say(
    `  304 vs 200: p50 ${cond1.p50.toFixed(2)} vs ${full1.p50.toFixed(2)} ms at 1 in flight; ` +
      `${cond1.perSecond.toFixed(0)} vs ${full1.perSecond.toFixed(0)} req/s at 1, ${condN.perSecond.toFixed(0)} vs ${fullN.perSecond.toFixed(0)} req/s at ${CONCURRENCY}`,
  )
  say()
  say(`Publish → searchable (POST /rag/query finds the unique sentence; local embedder), ${PUBLISHES} items`)
  say('  item   create ms  publish ms  searchable ms  polls')
  publishRuns.forEach((run, i) => {
    say(
      `  ${String(i + 1).padStart(4)}  ${ms(run.createMs).padStart(10)}  ${ms(run.publishMs).padStart(10)}  ${ms(run.searchableMs).padStart(13)}  ${String(run.polls).padStart(5)}`,
    )
  })
  say(
    `  median: publish request ${median(publishRuns.map((r) => r.publishMs)).toFixed(1)} ms; searchable ${median(publishRuns.map((r) => r.searchableMs)).toFixed(1)} ms after the publish request was sent`,
  )
  const expectedDocuments = boots.reduce((sum, b) => sum + b.indexed, 0) + PUBLISHES
  say(
    `  knowledge documents from content at the end: ${contentDocuments} (expected ${expectedDocuments}: ${boots.map((b) => b.indexed).join(' + ')} from the two start-ups + ${PUBLISHES} probes)`,
  )
  say()
  say(
    `Plans (EXPLAIN ANALYZE of the store's own SQL, in-process, warm). Planner statistics on public.content: A ${statsBefore === 0 ? 'none (nothing runs ANALYZE; PGlite has no autovacuum)' : `${statsBefore} columns`}; B ${statsAfter} columns (ANALYZE took ${analyzeMs.toFixed(0)} ms)`,
  )
  for (const [i, a] of plansA.entries()) {
    say(`  ${a.label.padEnd(27)} A ${a.line}`)
    say(`  ${''.padEnd(27)} B ${plansB[i]?.line ?? '?'}`)
  }
  say()
  for (const [label, level] of [
    ['list (limit 20)', 1],
    [`list ?tag=${FILTER_TAG}`, 1],
    [`list page ${CURSOR_PAGE} (cursor)`, 1],
    ['list, user token (RLS)', 1],
    ['list (limit 20)', CONCURRENCY],
  ] as const) {
    const a = at(label, level)
    const b = at(label, level, resultsB)
    const verdict = (p95: number) => `${p95.toFixed(2)} ms ${p95 <= GOAL_P95_MS ? 'met' : 'NOT met'}`
    say(
      `Goal list p95 ≤ ${GOAL_P95_MS} ms — ${`${label} at ${level}:`.padEnd(36)} A ${verdict(a.p95)}; B ${verdict(b.p95)}`,
    )
  }
  const bad = [...resultsA.values(), ...resultsB.values()].some(({ runs }) =>
    runs.some((r) => r.unexpected > 0),
  )
  if (bad || contentDocuments !== expectedDocuments) process.exitCode = 1
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
