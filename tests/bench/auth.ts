import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { procStatFields } from '@tests/helpers/proc-stat'
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
 * bun run bench auth [--users 1000] [--per-user 20] [--part abc] [--rounds 8] [--seconds 2]
 *                [--stores 'limiter off,memory,redis'] [--instances 2] [--health-token] [--pin]
 *
 * (a) Users × requests within the TTL against the fake Supabase Auth at 50 ms latency, through
 *     the real app and supabase-js: upstream calls and latency, cached (TTL 60 s) vs uncached
 *     (TTL 0), side by side in one run.
 * (b) Requests/s of GET /api/v1/auth/me with a cached token vs GET /health on the real server
 *     process — limiter off, memory store, Redis store — measured with wrk in alternating rounds
 *     over several processes per configuration; also the server's CPU time per request, and
 *     its main thread's in user space and in the kernel.
 * (c) The same three in process, one request at a time and 32 in flight.
 */
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    'per-user': { type: 'string', default: '20' },
    part: { type: 'string', default: 'abc' },
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '2' },
    stores: { type: 'string', default: 'limiter off,memory,redis' },
    instances: { type: 'string', default: '2' },
    // (b) only: send the same Authorization header to /health as to /auth/me, so the two
    // requests differ only in their path (part (c) always does); off by default.
    'health-token': { type: 'boolean', default: false },
    // (b) only: the servers on the last CPU, wrk and redis-server on the others (taskset), so
    // the load generator never shares a core with the servers (see `pinning`); off by default.
    pin: { type: 'boolean', default: false },
  },
})
const ROUNDS_B = Number(args.rounds)
const ROUND_SECONDS = Number(args.seconds)
const STORES = (args.stores ?? '').split(',')
const INSTANCES = Number(args.instances)
const USERS = Number(args.users)
const PER_USER = Number(args['per-user'])
const CONCURRENCY = 100

/**
 * Where --pin puts things: the servers on the last CPU this process may use, wrk (and
 * redis-server) on the others — which they then share — and each server's own JIT and GC
 * threads on its one CPU. Undefined without taskset or with fewer than two CPUs allowed.
 */
function pinning(): { server: string; others: string } | undefined {
  const cpus = allowedCpus()
  const last = cpus.at(-1)
  if (!Bun.which('taskset') || last === undefined || cpus.length < 2) {
    console.log('  (--pin needs taskset and two CPUs or more: running unpinned)')
    return undefined
  }
  return { server: String(last), others: cpus.slice(0, -1).join(',') }
}

/** The CPU ids this process may run on (`Cpus_allowed_list`, e.g. "0-3,6"); empty if unknown. */
function allowedCpus(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? ''
  return list
    .split(',')
    .filter(Boolean)
    .flatMap((range) => {
      const [from, to = from] = range.split('-').map(Number)
      if (from === undefined || to === undefined) return []
      return Array.from({ length: to - from + 1 }, (_, i) => from + i)
    })
}

/** Set by part (b) from --pin. */
let pinned: ReturnType<typeof pinning>
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

/** One wrk run: requests/s, and the requests it completed. */
async function wrk(url: string, token?: string): Promise<{ rps: number; requests: number }> {
  // One wrk thread and 32 connections: on a 2-core machine wrk then takes one core and the
  // server (one JS thread) the other; more wrk threads would only compete with the server.
  const command = ['wrk', '-t1', '-c32', `-d${ROUND_SECONDS}s`, url]
  if (token) command.splice(1, 0, '-H', `Authorization: Bearer ${token}`)
  const child = Bun.spawn(pinned ? ['taskset', '-c', pinned.others, ...command] : command, {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = await new Response(child.stdout).text()
  await child.exited
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]
  const requests = /(\d+) requests in/.exec(out)?.[1]
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1]
  if (!rps || !requests) throw new Error(`wrk printed no result:\n${out}`)
  if (non2xx) throw new Error(`${non2xx} non-2xx responses from ${url}`)
  return { rps: Number(rps), requests: Number(requests) }
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux); NaN
 * elsewhere. Per request it is a second view of the cost beside requests/s: less moved by other
 * processes taking turns on the cores, though not immune (caches, batching per event-loop tick).
 */
function cpuSeconds(pid: number): number {
  const fields = procStatFields(pid)
  return fields ? (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS : Number.NaN
}
const CLOCK_TICKS = Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()) || 100

/**
 * CPU seconds of the server's main thread (the one that runs JavaScript and the sockets): the
 * rest of the process is Bun's and JSC's helper threads (JIT, GC, the allocator's page
 * scavenger), which may run on the other core. `total` is exact (schedstat, nanoseconds);
 * `user` and `sys` are not: with tick-based CPU accounting (the kernels here) the kernel splits
 * a thread's time between user space and itself by sampling each tick, so over a 2 s round the
 * split is good to about a microsecond per request, and the median over rounds to a few tenths.
 */
function mainThreadSeconds(pid: number): { total: number; user: number; sys: number } {
  const fields = procStatFields(pid, pid)
  let total = Number.NaN
  try {
    total = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9
  } catch {
    // No schedstat (a kernel without scheduler statistics): the total stays unknown.
  }
  return fields
    ? { total, user: Number(fields[11]) / CLOCK_TICKS, sys: Number(fields[12]) / CLOCK_TICKS }
    : { total, user: Number.NaN, sys: Number.NaN }
}

/**
 * wrk against `url` on the server `pid`: requests/s, and the server's CPU µs per request —
 * the whole process's, and its main thread's in user space and in the kernel.
 */
async function measure(pid: number, url: string, token?: string): Promise<Sample> {
  const before = cpuSeconds(pid)
  const mainBefore = mainThreadSeconds(pid)
  const { rps, requests } = await wrk(url, token)
  const mainAfter = mainThreadSeconds(pid)
  const perRequest = (seconds: number) => (seconds / requests) * 1e6
  return {
    rps,
    cpuUs: perRequest(cpuSeconds(pid) - before),
    mainUs: perRequest(mainAfter.total - mainBefore.total),
    mainUserUs: perRequest(mainAfter.user - mainBefore.user),
    mainSysUs: perRequest(mainAfter.sys - mainBefore.sys),
  }
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

async function withRedis<T>(run: (url: string | undefined) => Promise<T>, cpus?: string): Promise<T> {
  if (!redisAvailable()) {
    console.log('  (no redis-server installed: the Redis store is left out)')
    return run(undefined)
  }
  const redis = await startRedis({ cpus })
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
interface Sample {
  rps: number
  /** Server CPU µs per request, every thread, user and kernel. */
  cpuUs: number
  /**
   * The main thread's share of it (exact), and that split into user space and the kernel (the
   * socket calls, page faults; approximate, see mainThreadSeconds).
   */
  mainUs: number
  mainUserUs: number
  mainSysUs: number
}

/**
 * The (b) table. The headline ratio is the median over rounds of that round's own
 * /auth/me ÷ /health (the two ran back to back on the same server, so slow drift cancels);
 * the ratio of the medians and the spread of the per-round ratios are shown beside it.
 */
function reportB(samples: { name: string; health: Sample[]; me: Sample[] }[]) {
  const median = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b)
    const mid = sorted.length / 2
    return sorted.length % 2
      ? (sorted[Math.floor(mid)] ?? 0)
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
  }
  const ratiosOf = (s: { health: Sample[]; me: Sample[] }) =>
    s.me.map((m, i) => m.rps / (s.health[i]?.rps ?? Number.NaN))
  console.log(
    `(b) the real server, wrk -t1 -c32, ${ROUNDS_B} alternating rounds of ${ROUND_SECONDS} s per endpoint, ${INSTANCES} process(es) per configuration${args['health-token'] ? ', /health sent the same Authorization header' : ''}${pinned ? `, servers pinned to CPU ${pinned.server}, wrk (and redis-server) to ${pinned.others}` : ''} (target: memory me/health ≥ 0.85)`,
  )
  console.log(
    '                 req/s: /health   /auth/me   me/health (range)   of medians   per process   server CPU µs/request: /health  /auth/me  difference',
  )
  for (const name of new Set(samples.map((s) => s.name))) {
    const mine = samples.filter((s) => s.name === name)
    const health = mine.flatMap((s) => s.health)
    const me = mine.flatMap((s) => s.me)
    const ratios = mine.flatMap(ratiosOf)
    const perProcess = mine.map((s) => median(ratiosOf(s)).toFixed(3)).join(' ')
    const h = median(health.map((x) => x.rps))
    const m = median(me.map((x) => x.rps))
    const hCpu = median(health.map((x) => x.cpuUs))
    const mCpu = median(me.map((x) => x.cpuUs))
    console.log(
      `  ${name.padEnd(12)} ${h.toFixed(0).padStart(15)} ${m.toFixed(0).padStart(10)}   ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})  ${(m / h).toFixed(3).padStart(10)}   ${perProcess.padEnd(11)}   ${hCpu.toFixed(1).padStart(23)} ${mCpu.toFixed(1).padStart(9)} ${(mCpu - hCpu).toFixed(1).padStart(11)}`,
    )
  }
  // Where the server CPU goes: user space on the main thread is JavaScript and Bun's own
  // request handling; its kernel time is the socket calls and page faults; the rest of the
  // column above is helper threads. The total is exact, its split sampled (mainThreadSeconds).
  const heads = ['/health', '/auth/me', 'difference']
    .map((h) => h.padEnd(22))
    .join('  ')
    .trimEnd()
  console.log(`  main thread, µs/request (medians)   ${heads}`)
  const columns = ['total', 'user', 'kernel'].map((c) => c.padStart(6)).join('  ')
  console.log(`  ${''.padEnd(34)} ${[columns, columns, columns].join('  ')}`)
  for (const name of new Set(samples.map((s) => s.name))) {
    const mine = samples.filter((s) => s.name === name)
    const of = (endpoint: 'health' | 'me', key: 'mainUs' | 'mainUserUs' | 'mainSysUs') =>
      median(mine.flatMap((s) => s[endpoint]).map((x) => x[key]))
    const keys = ['mainUs', 'mainUserUs', 'mainSysUs'] as const
    const health = keys.map((key) => of('health', key))
    const me = keys.map((key) => of('me', key))
    const cells = [...health, ...me, ...me.map((v, i) => v - (health[i] ?? Number.NaN))]
    console.log(`  ${name.padEnd(34)} ${cells.map((v) => v.toFixed(1).padStart(6)).join('  ')}`)
  }
}

async function partB() {
  if (!Bun.which('wrk')) {
    console.log('(b) skipped: wrk is not installed (apt-get install -y wrk)')
    return
  }
  const secret = 'bench-local-secret-0123456789-abcdefgh'
  pinned = args.pin ? pinning() : undefined
  await withRedis(async (redisUrl) => {
    const servers: { name: string; base: string; pid: number; stop: () => Promise<void>; dir: string }[] = []
    try {
      // Several processes per configuration: one process can be lastingly faster or slower than
      // another of the same code (JIT and heap layout; a run once saw /health 17% apart), and
      // alternating rounds cannot cancel that, so each configuration's figures pool instances.
      for (let instance = 0; instance < INSTANCES; instance++) {
        for (const [name, env] of variants(redisUrl).filter(([name]) => STORES.includes(name))) {
          const dir = mkdtempSync(join(tmpdir(), 'pilar-bench-auth-'))
          const server = await spawnBenchServer(
            { DATA_DIR: dir, LOCAL_JWT_SECRET: secret, ...env },
            { cpus: pinned?.server },
          )
          servers.push({ name, base: server.base, pid: server.process.pid, stop: () => server.stop(), dir })
        }
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
      const seen = servers.map(() => ({ health: [] as Sample[], me: [] as Sample[] }))
      // Many short alternating rounds: on these shared 2-core machines throughput drifts by tens
      // of percent within seconds, and alternation exposes every server to the same drift. Each
      // round starts with the next server, and every other round measures /auth/me first, so no
      // server or endpoint always runs first (or last) in a round.
      for (let round = 0; round < ROUNDS_B; round++) {
        for (let k = 0; k < servers.length; k++) {
          const i = (round + k) % servers.length
          const server = servers[i]
          const s = seen[i]
          if (!server || !s) continue
          const health = () =>
            measure(server.pid, `${server.base}/health`, args['health-token'] ? token : undefined)
          const me = () => measure(server.pid, `${server.base}/api/v1/auth/me`, token)
          if (round % 2 === 0) {
            s.health.push(await health())
            s.me.push(await me())
          } else {
            s.me.push(await me())
            s.health.push(await health())
          }
        }
      }
      reportB(servers.map((server, i) => ({ name: server.name, ...(seen[i] ?? { health: [], me: [] }) })))
    } finally {
      for (const server of servers) {
        await server.stop()
        rmSync(server.dir, { recursive: true, force: true })
      }
    }
  }, pinned?.others)
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
    // `inFlight` requests at once (1: one after another), n in all; µs of wall time per request.
    const perRequestUs = async (app: (typeof apps)[number], path: string, n: number, inFlight: number) => {
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next++ < n) {
            const response = await app.request(path)
            if (response.status !== 200) throw new Error(`${app.name}: ${path} answered ${response.status}`)
            await response.arrayBuffer()
          }
        }),
      )
      return ((performance.now() - started) / n) * 1000
    }
    for (const inFlight of [1, 32]) {
      for (const app of apps) {
        await perRequestUs(app, '/health', 10_000, inFlight)
        await perRequestUs(app, '/api/v1/auth/me', 10_000, inFlight)
      }
      const rows = apps.map((a) => [a.name, [] as number[], [] as number[]] as [string, number[], number[]])
      for (let round = 0; round < 10; round++) {
        for (const [i, app] of apps.entries()) {
          rows[i]?.[1].push(await perRequestUs(app, '/health', 10_000, inFlight))
          rows[i]?.[2].push(await perRequestUs(app, '/api/v1/auth/me', 10_000, inFlight))
        }
      }
      report(
        `(c) in process, ${inFlight} in flight, µs per request (median of 10 alternating rounds of 10,000)`,
        rows,
        'us',
      )
    }
    for (const app of apps) await app.close()
  })
  await db.close()
}

if (args.part?.includes('a')) await partA()
if (args.part?.includes('b')) await partB()
if (args.part?.includes('c')) await partC()
