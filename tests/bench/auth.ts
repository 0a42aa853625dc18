import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { redisAvailable, startRedis } from '@tests/helpers/redis-server'
import pino from 'pino'
import { newApp } from '@/app'
import { loadConfig } from '@/config'
import { buildContainer, MIGRATIONS_DIR } from '@/container'
import { signLocalToken } from '@/lib/auth/local-tokens'
import { bootstrap } from '@/lib/db/bootstrap'
import { withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPglite } from '@/lib/db/pglite'
import { createLogger } from '@/lib/log'

/**
 * bun run bench auth [--users 1000] [--per-user 20] [--part abc] [--rounds 6]
 *
 * (a) Users × requests within the TTL against the fake Supabase Auth at 50 ms latency, through
 *     the real app and supabase-js: upstream calls and latency, cached (TTL 60 s) vs uncached
 *     (TTL 0), side by side in one run.
 * (b) Requests/s of GET /api/v1/auth/me with a cached token vs GET /health on the real server
 *     process — limiter off, memory store, Redis store — measured with wrk in alternating rounds.
 * (c) The same three in process.
 */
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    'per-user': { type: 'string', default: '20' },
    part: { type: 'string', default: 'abc' },
    rounds: { type: 'string', default: '6' },
  },
})
const ROUNDS_B = Number(args.rounds)
const USERS = Number(args.users)
const PER_USER = Number(args['per-user'])
const CONCURRENCY = 100
const UPSTREAM_LATENCY_MS = 50

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}

async function partA() {
  const fake = new FakeSupabaseAuth().start()
  fake.latencyMs = UPSTREAM_LATENCY_MS
  const driver = await openPglite(':memory:')
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(MIGRATIONS_DIR))
  const silent = createLogger('silent')
  const tokens = await Promise.all(Array.from({ length: USERS }, () => signToken(fake.secret)))

  async function run(ttlMs: number) {
    const parsed = loadConfig({
      DATA_DIR: ':memory:',
      SUPABASE_URL: fake.url,
      SUPABASE_ANON_KEY: fake.apiKey,
      AUTH_CACHE_TTL_MS: String(ttlMs),
    })
    if (!parsed.ok) throw new Error(parsed.problems.join('; '))
    const app = newApp(await buildContainer(parsed.config, silent, { db }))
    fake.reset()
    fake.latencyMs = UPSTREAM_LATENCY_MS
    // Round-robin over users: each user's 20 requests are spread over the run, as real traffic is.
    const queue: string[] = []
    for (let round = 0; round < PER_USER; round++) for (const token of tokens) queue.push(token)
    const latencies: number[] = []
    let failures = 0
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < queue.length) {
          const token = queue[next++]
          const t0 = performance.now()
          const response = await app.request('http://bench/api/v1/auth/me', {
            headers: { authorization: `Bearer ${token}` },
          })
          latencies.push(performance.now() - t0)
          if (response.status !== 200) failures++
          await response.arrayBuffer()
        }
      }),
    )
    return {
      requests: queue.length,
      failures,
      upstream: fake.calls.user,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      seconds: (performance.now() - started) / 1000,
    }
  }

  const cached = await run(60_000)
  const uncached = await run(0)
  await fake.stop()
  await db.close()

  console.log(
    `(a) ${USERS} users × ${PER_USER} requests, fake Supabase Auth at ${UPSTREAM_LATENCY_MS} ms, ${CONCURRENCY} concurrent`,
  )
  console.log('               upstream calls   p50 ms   p99 ms   wall s   non-200')
  for (const [name, r] of [
    ['cached', cached],
    ['uncached', uncached],
  ] as const) {
    console.log(
      `  ${name.padEnd(10)}  ${String(r.upstream).padStart(15)}  ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}  ${r.seconds.toFixed(1).padStart(7)}  ${String(r.failures).padStart(8)}`,
    )
  }
  const saved = 1 - cached.upstream / uncached.upstream
  console.log(
    `  upstream calls saved by the cache: ${(saved * 100).toFixed(2)}% (target ≥ 95%, ≤ ${USERS} calls)`,
  )
}

async function wrk(url: string, token?: string): Promise<number> {
  const args = ['wrk', '-t1', '-c32', '-d2s', url]
  if (token) args.splice(1, 0, '-H', `Authorization: Bearer ${token}`)
  const child = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' })
  const out = await new Response(child.stdout).text()
  await child.exited
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1]
  if (!rps) throw new Error(`wrk printed no result:\n${out}`)
  if (non2xx) throw new Error(`${non2xx} non-2xx responses from ${url}`)
  return Number(rps)
}

/** The configurations compared: no limiter, the memory store, the Redis store (limits raised so nothing is refused). */
const RAISED = Object.fromEntries(
  ['API', 'ANON', 'AI', 'AUTH_FAILURES', 'INGEST'].map((name) => [`RATE_LIMIT_${name}`, '1000000']),
)
function variants(redisUrl: string | undefined): [string, Record<string, string>][] {
  return [
    ['limiter off', { RATE_LIMIT_ENABLED: 'false' }],
    ['memory', { ...RAISED, RATE_LIMIT_STORE: 'memory' }],
    ...(redisUrl
      ? [
          ['redis', { ...RAISED, REDIS_URL: redisUrl, RATE_LIMIT_STORE: 'redis' }] as [
            string,
            Record<string, string>,
          ],
        ]
      : []),
  ]
}

async function withRedis<T>(run: (url: string | undefined) => Promise<T>): Promise<T> {
  if (!redisAvailable()) {
    console.log('  (no redis-server installed: the Redis store is left out)')
    return run(undefined)
  }
  const redis = await startRedis()
  try {
    return await run(redis.url)
  } finally {
    await redis.stop()
  }
}

function report(title: string, rows: [string, number[], number[]][], unit: 'rps' | 'us') {
  console.log(title)
  const median = (v: number[]) => percentile(v, 50)
  for (const [name, health, me] of rows) {
    // Ratio of rates: requests/s of /auth/me over /health (µs: the inverse ratio of times).
    const paired = me.map((v, i) => (unit === 'rps' ? v / (health[i] ?? v) : (health[i] ?? v) / v))
    const ratio = unit === 'rps' ? median(me) / median(health) : median(health) / median(me)
    console.log(
      `  ${name.padEnd(12)} /health ${median(health)
        .toFixed(unit === 'rps' ? 0 : 2)
        .padStart(8)}  /api/v1/auth/me ${median(me)
        .toFixed(unit === 'rps' ? 0 : 2)
        .padStart(
          8,
        )} ${unit === 'rps' ? 'req/s' : 'µs'}   me/health ${ratio.toFixed(3)} (per-round median ${median(paired).toFixed(3)})`,
    )
  }
}

/**
 * (b) Requests/s of GET /api/v1/auth/me with a cached token vs GET /health on the real server
 * process, with the limiter off, on the memory store and on the Redis store (a throwaway
 * redis-server), measured with wrk in rounds that alternate over all three servers.
 */
async function partB() {
  if (!Bun.which('wrk')) {
    console.log('(b) skipped: wrk is not installed (apt-get install -y wrk)')
    return
  }
  const secret = 'bench-local-secret-0123456789-abcdefgh'
  await withRedis(async (redisUrl) => {
    const servers: { name: string; base: string; stop: () => Promise<void>; dir: string }[] = []
    try {
      for (const [name, env] of variants(redisUrl)) {
        const dir = mkdtempSync(join(tmpdir(), 'pilar-bench-auth-'))
        const server = await spawnBenchServer({ DATA_DIR: dir, LOCAL_JWT_SECRET: secret, ...env })
        servers.push({ name, base: server.base, stop: () => server.stop(), dir })
      }
      const token = await signLocalToken(secret, { email: 'bench@example.test', ttlSeconds: 3_600 })
      for (const server of servers) {
        const status = (
          await fetch(`${server.base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })
        ).status
        if (status !== 200) throw new Error(`${server.name}: token answered ${status}`)
        await wrk(`${server.base}/health`) // warm-up
        await wrk(`${server.base}/api/v1/auth/me`, token)
      }
      const rows = servers.map(
        (s) => [s.name, [] as number[], [] as number[]] as [string, number[], number[]],
      )
      // Many short alternating rounds: on these shared 2-core machines throughput drifts by tens
      // of percent within seconds, and alternation exposes every server to the same drift.
      for (let round = 0; round < ROUNDS_B; round++) {
        for (const [i, server] of servers.entries()) {
          rows[i]?.[1].push(await wrk(`${server.base}/health`))
          rows[i]?.[2].push(await wrk(`${server.base}/api/v1/auth/me`, token))
        }
      }
      report(
        `(b) requests/s on the real server (wrk, 32 connections, median of ${ROUNDS_B} alternating rounds of 2 s; target memory ≥ 0.85)`,
        rows,
        'rps',
      )
    } finally {
      for (const server of servers) {
        await server.stop()
        rmSync(server.dir, { recursive: true, force: true })
      }
    }
  })
}

/**
 * (c) The same comparison in process (app.request, logging to /dev/null, no sockets): the
 * per-request cost of the app itself, much less exposed to the machine's noise than (b).
 */
async function partC() {
  const secret = 'bench-local-secret-0123456789-abcdefgh'
  const driver = await openPglite(':memory:')
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(MIGRATIONS_DIR))
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: true }))
  const token = await signLocalToken(secret, { email: 'bench@example.test', ttlSeconds: 3_600 })
  const init = { headers: { authorization: `Bearer ${token}` } }
  await withRedis(async (redisUrl) => {
    const apps: { name: string; close: () => Promise<void>; request: (path: string) => Promise<Response> }[] =
      []
    for (const [name, env] of variants(redisUrl)) {
      const parsed = loadConfig({ DATA_DIR: ':memory:', LOCAL_JWT_SECRET: secret, ...env })
      if (!parsed.ok) throw new Error(parsed.problems.join('; '))
      const container = await buildContainer(parsed.config, logger, { db, skipKnowledgeInit: true })
      const app = newApp(container)
      apps.push({
        name,
        close: () => container.close(),
        request: (path) => Promise.resolve(app.request(`http://bench${path}`, init)),
      })
    }
    const perRequestUs = async (app: (typeof apps)[number], path: string, n: number) => {
      const started = performance.now()
      for (let i = 0; i < n; i++) {
        const response = await app.request(path)
        if (response.status !== 200) throw new Error(`${app.name}: ${path} answered ${response.status}`)
        await response.arrayBuffer()
      }
      return ((performance.now() - started) / n) * 1000
    }
    for (const app of apps) {
      await perRequestUs(app, '/health', 10_000)
      await perRequestUs(app, '/api/v1/auth/me', 10_000)
    }
    const rows = apps.map((a) => [a.name, [] as number[], [] as number[]] as [string, number[], number[]])
    for (let round = 0; round < 10; round++) {
      for (const [i, app] of apps.entries()) {
        rows[i]?.[1].push(await perRequestUs(app, '/health', 10_000))
        rows[i]?.[2].push(await perRequestUs(app, '/api/v1/auth/me', 10_000))
      }
    }
    for (const app of apps) await app.close()
    report('(c) in process, µs per request (median of 10 alternating rounds of 10,000)', rows, 'us')
  })
  await db.close()
}

if (args.part?.includes('a')) await partA()
if (args.part?.includes('b')) await partB()
if (args.part?.includes('c')) await partC()
