import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type BenchServer, spawnBenchServer } from '@tests/helpers/bench-server'
import { type RedisServer, redisAvailable, startRedis } from '@tests/helpers/redis-server'
import { signLocalToken } from '@/lib/auth/local-tokens'

/**
 * Load and fault harness: the real server (embedded database, local auth, Redis-backed rate
 * limits) driven by wrk with a realistic mix (tests/bench/load/mix.lua).
 *
 * 1. The mix at concurrency 16 and 64, DURATION seconds each: throughput, p50/p95/p99, errors.
 * 2. GET /api/v1/auth/me versus GET /health, requests/s, in alternating rounds in the same run.
 * 3. Fault run at concurrency 16: the primary LLM (a fake OpenAI server) goes down, then Redis
 *    is stopped and started again. Only 2xx and the documented 429/503 may come back.
 *
 * Rate limits are raised far above what the load needs (one client address sends everything),
 * so every request still pays for its Redis check but none is refused for volume.
 *
 * `bun run bench load [seconds]` (default 30).
 */

const DURATION = Number(process.argv[2] ?? 30)
const SECRET = 'pilar-load-bench-secret-0123456789abcdef'
const USERS = 64
const HIGH = '1000000' // the most the config allows per window
const MIX = join(import.meta.dir, 'load/mix.lua')

interface WrkResult {
  requests: number
  duration_us: number
  p50_us: number
  p95_us: number
  p99_us: number
  max_us: number
  socket_errors: Record<string, number>
  statuses: Record<string, number>
}

if (!Bun.which('wrk')) {
  console.error('wrk is not installed: apt-get install -y wrk')
  process.exit(1)
}
if (!redisAvailable()) {
  console.error('redis-server is not installed: apt-get install -y redis-server')
  process.exit(1)
}

const work = mkdtempSync(join(tmpdir(), 'pilar-load-'))
const redis: RedisServer = await startRedis()
const openai = new FakeOpenAI().start()
openai.wordDelayMs = 0

const baseEnv = {
  DATA_DIR: join(work, 'data'),
  LOCAL_JWT_SECRET: SECRET,
  REDIS_URL: redis.url,
  RATE_LIMIT_API: HIGH,
  RATE_LIMIT_AI: HIGH,
  RATE_LIMIT_AUTH_FAILURES: HIGH,
  RATE_LIMIT_INGEST: HIGH,
  METRICS_TOKEN: 'load-bench-metrics-token',
  LOG_LEVEL: 'warn',
}

async function wrk(base: string, args: string[], script?: string): Promise<string> {
  const child = Bun.spawn(['wrk', ...args, ...(script ? ['-s', script] : []), base], {
    env: { ...process.env, LOAD_DATA: join(work, 'data.lua') },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  if (code !== 0) throw new Error(`wrk exited ${code}: ${err}`)
  return out
}

async function mix(base: string, connections: number, seconds: number): Promise<WrkResult> {
  const out = await wrk(base, ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s'], MIX)
  const line = out.split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) throw new Error(`wrk printed no result:\n${out}`)
  return JSON.parse(line.slice(7)) as WrkResult
}

async function rps(url: string, token?: string): Promise<number> {
  const header = token ? ['-H', `Authorization: Bearer ${token}`] : []
  const out = await wrk(url, ['-t1', '-c32', '-d5s', ...header])
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
}

async function compare(label: string, server: BenchServer, token: string | undefined) {
  const me: number[] = []
  const health: number[] = []
  await rps(`${server.base}/api/v1/auth/me`, token) // warm the token cache and the JIT
  for (let round = 0; round < 3; round++) {
    health.push(await rps(`${server.base}/health`))
    me.push(await rps(`${server.base}/api/v1/auth/me`, token))
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  console.log(
    `   ${label}: /health ${median(health).toFixed(0)} req/s, /auth/me ${median(me).toFixed(0)} req/s, ratio ${(median(me) / median(health)).toFixed(3)}` +
      `   (rounds: health ${health.map((x) => x.toFixed(0)).join(', ')}; me ${me.map((x) => x.toFixed(0)).join(', ')})`,
  )
}

const ms = (us: number) => (us / 1000).toFixed(1)
function describe(label: string, r: WrkResult) {
  const seconds = r.duration_us / 1e6
  const non2xx = Object.entries(r.statuses)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0)
  const socket = Object.values(r.socket_errors).reduce((a, b) => a + b, 0)
  console.log(
    `${label.padEnd(22)} ${(r.requests / seconds).toFixed(0).padStart(6)} req/s  p50 ${ms(r.p50_us)} ms  p95 ${ms(r.p95_us)} ms  p99 ${ms(r.p99_us)} ms  ` +
      `errors ${non2xx + socket} (non-2xx ${non2xx}, socket ${socket})  statuses ${JSON.stringify(r.statuses)}`,
  )
}

/** Users with tokens and an open assessment each, written as a Lua table for mix.lua. */
async function prepare(server: BenchServer) {
  const users: { token: string; assessment: string; questions: string[] }[] = []
  for (let i = 0; i < USERS; i++) {
    const token = await signLocalToken(SECRET, { email: `load-${i}@example.test`, ttlSeconds: 3_600 })
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const created = await fetch(`${server.base}/api/v1/assessments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ pillar_id: 'grpprosp', mode: 'egalitarian' }),
    })
    if (created.status !== 201)
      throw new Error(`create assessment: ${created.status} ${await created.text()}`)
    const { assessment } = (await created.json()) as { assessment: { id: string } }
    const listed = (await (
      await fetch(`${server.base}/api/v1/assessments/${assessment.id}/questions`, { headers })
    ).json()) as {
      questions: { id: string }[]
    }
    users.push({ token, assessment: assessment.id, questions: listed.questions.map((q) => q.id) })
  }
  const lua = `return { users = {\n${users
    .map(
      (u) =>
        `  { token = "${u.token}", assessment = "${u.assessment}", questions = { ${u.questions.map((q) => `"${q}"`).join(', ')} } },`,
    )
    .join('\n')}\n} }\n`
  writeFileSync(join(work, 'data.lua'), lua)
  return users
}

async function metricLines(server: BenchServer, names: string[]) {
  const text = await (
    await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${baseEnv.METRICS_TOKEN}` } })
  ).text()
  return text.split('\n').filter((l) => names.some((n) => l.startsWith(n)))
}

try {
  console.log(
    `load: ${DURATION}s per run, ${USERS} users, wrk with 2 threads; embedded database, Redis rate limits\n`,
  )
  let server = await spawnBenchServer(baseEnv)
  const users = await prepare(server)
  await mix(server.base, 16, 3) // warm-up (JIT, caches, first chat rows)

  console.log(
    '1. realistic mix (30% auth/me, 25% list assessments, 20% answers, 15% knowledge query, 10% chat)',
  )
  for (const c of [16, 64]) describe(`mix, ${c} connections`, await mix(server.base, c, DURATION))
  for (const line of await metricLines(server, ['rate_limit_store_failures_total'])) console.log(`   ${line}`)

  console.log('\n2. GET /api/v1/auth/me vs GET /health (wrk, 32 connections, 3 alternating rounds of 5 s)')
  await compare('Redis rate-limit store', server, users[0]?.token)
  await server.stop()
  // The same comparison with the in-process store, to show what the Redis round trip costs.
  server = await spawnBenchServer({ ...baseEnv, RATE_LIMIT_STORE: 'memory' })
  await compare('memory rate-limit store', server, users[0]?.token)
  await server.stop()

  console.log(`\n3. fault run (16 connections, ${DURATION}s): LLM primary = fake OpenAI, fallback = local`)
  server = await spawnBenchServer({
    ...baseEnv,
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: openai.apiKey,
    LLM_FALLBACK_PROVIDERS: 'local',
  })
  const at = (fraction: number) => Math.round(DURATION * 1000 * fraction)
  const events: string[] = []
  const started = performance.now()
  const note = (what: string) =>
    events.push(`   t=${((performance.now() - started) / 1000).toFixed(1)}s ${what}`)
  const timeline = (async () => {
    await Bun.sleep(at(0.2))
    note(`primary LLM down (the fake had answered ${openai.chatRequests.length} chats)`)
    await openai.stop()
    await Bun.sleep(at(0.2))
    note('Redis stopped')
    await redis.stop()
    await Bun.sleep(at(0.2))
    await redis.start()
    note('Redis started again (empty)')
  })()
  const faulted = await mix(server.base, 16, DURATION)
  await timeline
  for (const e of events) console.log(e)
  describe('mix under faults', faulted)
  const unexpected = Object.entries(faulted.statuses).filter(
    ([code]) => !code.startsWith('2') && code !== '429' && code !== '503',
  )
  const socket = Object.values(faulted.socket_errors).reduce((a, b) => a + b, 0)
  console.log(
    unexpected.length === 0 && socket === 0
      ? '   only 2xx and documented 429/503 came back'
      : `   UNEXPECTED: ${JSON.stringify(Object.fromEntries(unexpected))}, socket errors ${socket}`,
  )
  for (const line of await metricLines(server, [
    'circuit_breaker_state',
    'rate_limit_store_failures_total',
    'llm_request_duration_seconds_count',
  ])) {
    console.log(`   ${line}`)
  }
  await server.stop()
} finally {
  await openai.stop()
  await redis.stop()
  rmSync(work, { recursive: true, force: true })
}
