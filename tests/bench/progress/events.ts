import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median, percentile } from '@tests/bench/stats'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { loadConfig } from '@/config'
import { localUserId, signLocalToken } from '@/lib/auth/local-tokens'
import { openDatabase } from '@/lib/db/open'

/**
 * bun run bench progress --part events [--users 50] [--events 20000] [--singles 2000]
 *                                      [--batch 100] [--concurrency 16] [--rounds 3]
 *
 * Event ingest over HTTP against the real server process on the embedded database (rate limits
 * off): POST /api/v1/events in batches of BATCH events by CONCURRENCY clients, against the same
 * route with one event per request, also at CONCURRENCY — in alternating rounds, so both see
 * the same machine. Requests are spread over USERS users; every body is built before the clock
 * starts. After the server stops, the rows are counted: every accepted event must be stored.
 * Goal (issue 16): ≥ 10,000 events/s with batches.
 */
export async function run(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '50' },
      events: { type: 'string', default: '20000' },
      singles: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      rounds: { type: 'string', default: '3' },
    },
  })
  const USERS = Number(args.users)
  const EVENTS = Number(args.events)
  const SINGLES = Number(args.singles)
  const BATCH = Number(args.batch)
  const CONCURRENCY = Number(args.concurrency)
  const ROUNDS = Number(args.rounds)
  const GOAL = 10_000
  const SECRET = 'bench-local-secret-0123456789-abcdefgh'

  const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-events-'))
  try {
    const emails = Array.from({ length: USERS }, (_, i) => `events-${i}@bench.test`)
    const headers = await Promise.all(
      emails.map(async (email) => ({
        authorization: `Bearer ${await signLocalToken(SECRET, { email, ttlSeconds: 3_600 })}`,
        'content-type': 'application/json',
      })),
    )
    const server = await spawnBenchServer({
      DATA_DIR: dataDir,
      LOCAL_JWT_SECRET: SECRET,
      RATE_LIMIT_ENABLED: 'false',
    })
    const runs = { batched: [] as Figures[], single: [] as Figures[] }
    let expected = 0
    let retry = ''
    try {
      // First sight of each user creates their auth.users row: not part of the measurement.
      for (const h of headers) await fetch(`${server.base}/api/v1/auth/me`, { headers: h })
      const url = `${server.base}/api/v1/events`
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of ['batched', 'single'] as const) {
          const size = mode === 'batched' ? BATCH : 1
          const requests = Math.ceil((mode === 'batched' ? EVENTS : SINGLES) / size)
          const bodies = Array.from({ length: requests }, () => JSON.stringify({ events: events(size) }))
          const result = await load(url, headers, bodies, CONCURRENCY, size)
          expected += result.accepted
          runs[mode].push(result.figures)
          if (mode === 'batched' && round === 0) {
            // A retried batch is answered, and changes nothing.
            const again = await fetch(url, { method: 'POST', headers: headers[0], body: bodies[0] })
            retry = `retrying a stored batch → ${again.status} ${await again.text()}`
          }
        }
      }
    } finally {
      await server.stop()
    }
    const stored = await countEvents(dataDir, emails.map(localUserId))

    const b = medianFigures(runs.batched)
    const s = medianFigures(runs.single)
    const row = (name: string, f: Figures) =>
      `| ${name} | ${f.eventsPerSecond.toFixed(0)} | ${f.requestsPerSecond.toFixed(0)} | ${f.p50.toFixed(1)} | ${f.p95.toFixed(1)} | ${f.failed} |`
    console.log(
      `${USERS} users, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds (medians); ` +
        `${EVENTS} events per batched round, ${SINGLES} per single-event round\n`,
    )
    console.log('| mode | events/s | req/s | p50 ms | p95 ms | failed |')
    console.log('|---|---:|---:|---:|---:|---:|')
    console.log(row(`batches of ${BATCH}`, b))
    console.log(row('one event per request', s))
    console.log(
      `\nbatched / single: ${(b.eventsPerSecond / s.eventsPerSecond).toFixed(1)}× the events/s; ` +
        `goal ≥ ${GOAL} events/s with batches: ${b.eventsPerSecond >= GOAL ? 'met' : 'NOT met'}`,
    )
    console.log(retry)
    console.log(
      `rows stored ${stored}, events accepted ${expected}: ${stored === expected ? 'equal' : 'MISMATCH'}`,
    )
    if (stored !== expected) process.exitCode = 1
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

interface Figures {
  p50: number
  p95: number
  eventsPerSecond: number
  requestsPerSecond: number
  failed: number
}

const medianFigures = (runs: Figures[]): Figures => ({
  p50: median(runs.map((r) => r.p50)),
  p95: median(runs.map((r) => r.p95)),
  eventsPerSecond: median(runs.map((r) => r.eventsPerSecond)),
  requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
  failed: runs.reduce((sum, r) => sum + r.failed, 0),
})

function events(n: number) {
  const at = new Date().toISOString()
  return Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    type: i % 3 === 0 ? 'page_view' : i % 3 === 1 ? 'navigation_click' : 'modal_opened',
    occurred_at: at,
    session_id: 'bench-session',
    page: `/pillars/${i % 10}`,
    properties: { position: i, source: 'bench' },
  }))
}

/** POSTs every body by `level` workers, each request as the next user in turn; latencies in ms. */
async function load(
  url: string,
  headers: Record<string, string>[],
  bodies: string[],
  level: number,
  perRequest: number,
) {
  const latencies: number[] = []
  let failed = 0
  let accepted = 0
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: level }, async () => {
      while (next < bodies.length) {
        const i = next++
        const t0 = performance.now()
        const response = await fetch(url, {
          method: 'POST',
          headers: headers[i % headers.length],
          body: bodies[i],
        })
        const answer = (await response.json()) as { accepted?: number }
        latencies.push(performance.now() - t0)
        if (response.status === 202) accepted += answer.accepted ?? 0
        else failed++
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const figures: Figures = {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    eventsPerSecond: accepted / seconds,
    requestsPerSecond: latencies.length / seconds,
    failed,
  }
  if (accepted !== (bodies.length - failed) * perRequest) throw new Error('a batch was not fully accepted')
  return { figures, accepted }
}

/** The stored events of the bench's users, read once the server has let go of the database. */
async function countEvents(dataDir: string, userIds: string[]): Promise<number> {
  const parsed = loadConfig({ DATA_DIR: dataDir })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  const db = await openDatabase(parsed.config.database)
  try {
    const [row] = await db.transaction((tx) =>
      tx.query<{ n: number }>(
        'select count(*)::int as n from public.events where user_id = any($1::uuid[])',
        [userIds],
      ),
    )
    return row?.n ?? 0
  } finally {
    await db.close()
  }
}
