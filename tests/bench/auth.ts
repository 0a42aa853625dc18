import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { spawnBenchServer } from '@tests/helpers/bench-server'
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
 * bun run bench auth [--users 1000] [--per-user 20] [--part abc]
 *
 * (a) Users × requests within the TTL against the fake Supabase Auth at 50 ms latency, through
 *     the real app and supabase-js: upstream calls and latency, cached (TTL 60 s) vs uncached
 *     (TTL 0), side by side in one run.
 * (b) Requests/s of GET /api/v1/auth/me with a cached token vs GET /health on the real server
 *     process, measured with wrk in alternating rounds.
 */
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    'per-user': { type: 'string', default: '20' },
    part: { type: 'string', default: 'abc' },
  },
})
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

async function partB() {
  if (!Bun.which('wrk')) {
    console.log('(b) skipped: wrk is not installed (apt-get install -y wrk)')
    return
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-auth-'))
  const secret = 'bench-local-secret-0123456789-abcdefgh'
  const server = await spawnBenchServer({ DATA_DIR: dataDir, LOCAL_JWT_SECRET: secret })
  try {
    const base = server.base
    const token = await signLocalToken(secret, { email: 'bench@example.test', ttlSeconds: 3_600 })
    if (
      (await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status !==
      200
    ) {
      throw new Error('token refused')
    }
    await wrk(`${base}/health`) // warm-up
    const health: number[] = []
    const me: number[] = []
    // Many short alternating rounds: on these shared 2-core machines throughput drifts by tens
    // of percent within seconds, and alternation exposes both endpoints to the same drift.
    for (let round = 0; round < 12; round++) {
      health.push(await wrk(`${base}/health`))
      me.push(await wrk(`${base}/api/v1/auth/me`, token))
    }
    const median = (v: number[]) => percentile(v, 50)
    console.log('(b) requests/s on the real server (wrk, 32 connections, 12 alternating rounds of 2 s)')
    console.log(
      `  GET /health          rounds ${health.map((v) => v.toFixed(0)).join(', ')}  median ${median(health).toFixed(0)}`,
    )
    console.log(
      `  GET /api/v1/auth/me  rounds ${me.map((v) => v.toFixed(0)).join(', ')}  median ${median(me).toFixed(0)}`,
    )
    const paired = me.map((v, i) => v / (health[i] ?? v))
    console.log(`  ratio of medians me/health: ${(median(me) / median(health)).toFixed(3)} (target ≥ 0.85)`)
    console.log(`  median of per-round ratios: ${median(paired).toFixed(3)}`)
  } finally {
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/**
 * (c) The same comparison in process (app.request, logging to /dev/null, no sockets): the
 * per-request cost of the app itself, much less exposed to the machine's noise than (b).
 */
async function partC() {
  const secret = 'bench-local-secret-0123456789-abcdefgh'
  const parsed = loadConfig({ DATA_DIR: ':memory:', LOCAL_JWT_SECRET: secret })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  const driver = await openPglite(':memory:')
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(MIGRATIONS_DIR))
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: true }))
  const app = newApp(await buildContainer(parsed.config, logger, { db }))
  const token = await signLocalToken(secret, { email: 'bench@example.test', ttlSeconds: 3_600 })
  const init = { headers: { authorization: `Bearer ${token}` } }
  const perRequestUs = async (path: string, n: number) => {
    const started = performance.now()
    for (let i = 0; i < n; i++) await (await app.request(`http://bench${path}`, init)).arrayBuffer()
    return ((performance.now() - started) / n) * 1000
  }
  await perRequestUs('/health', 20_000)
  await perRequestUs('/api/v1/auth/me', 20_000)
  const health: number[] = []
  const me: number[] = []
  for (let round = 0; round < 10; round++) {
    health.push(await perRequestUs('/health', 20_000))
    me.push(await perRequestUs('/api/v1/auth/me', 20_000))
  }
  await db.close()
  const h = percentile(health, 50)
  const m = percentile(me, 50)
  console.log('(c) in process, µs per request (median of 10 alternating rounds of 20,000)')
  console.log(
    `  GET /health ${h.toFixed(2)} µs   GET /api/v1/auth/me ${m.toFixed(2)} µs   ratio of rates ${(h / m).toFixed(3)}`,
  )
}

if (args.part?.includes('a')) await partA()
if (args.part?.includes('b')) await partB()
if (args.part?.includes('c')) await partC()
