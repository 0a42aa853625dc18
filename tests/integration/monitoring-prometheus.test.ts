import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { freePort } from '@tests/helpers/ports'
import { type RedisServer, requireRedisInCi, startRedis } from '@tests/helpers/redis-server'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'
import type { Subprocess } from 'bun'

// A real Prometheus (Debian package `prometheus`) scrapes the real server process with its
// METRICS_TOKEN every half second and evaluates docs/monitoring's rules as often (their 5m
// windows need only two samples). After real traffic — Supabase auth (a fake GoTrue on loopback)
// with cache hits, misses and a refused token, a 404, a 429, database statements, a local LLM
// call — and then an outage — Redis killed (rate-limit store failures), the auth server answering
// 500 (503s, the supabase-auth breaker opening) — every rule and every dashboard expression must
// return data through Prometheus's HTTP API.
const DIR = join(import.meta.dir, '../../docs/monitoring')
const METRICS_TOKEN = 'prometheus-scrape-token-0001'

const prometheusBin = Bun.which('prometheus')
if (!prometheusBin && process.env.CI === 'true') {
  throw new Error('CI needs prometheus (.ci/run installs the Debian package prometheus)')
}
const enabled = prometheusBin !== null && requireRedisInCi()
if (!enabled)
  console.warn('monitoring-prometheus.test.ts skipped: needs prometheus and redis-server installed')

interface Rule {
  alert?: string
  record?: string
  expr: string
}
const rulesOf = (file: string) =>
  (Bun.YAML.parse(readFileSync(join(DIR, file), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
    (g) => g.rules,
  )
const recordings = rulesOf('recording-rules.yml')
const alerts = rulesOf('alerting-rules.yml')
const dashboard = JSON.parse(readFileSync(join(DIR, 'grafana-dashboard.json'), 'utf8')) as {
  panels: { type: string; title: string; targets?: { expr: string }[] }[]
}
const panelExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ name: p.title, expr: t.expr })),
)

// Alerts a short test run cannot make fire (latency thresholds, a low hit rate after a few
// requests) are checked with their thresholds taken out: each comparison with a number becomes
// `>= -Inf`, which keeps every finite sample. What is left is the alert's own expression — every
// selector, every `and on (…)` clause — so it returns data only if each series it reads exists
// with the labels it joins on (a typo in any clause fails).
const THRESHOLD = /(<=|>=|==|!=|<|>)\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?(?![\w.])/gi
const withoutThresholds = (expr: string) => expr.replace(THRESHOLD, '>= -Inf')
// The outage makes these fire for real: their own expression must return data.
const MUST_FIRE = ['CircuitBreakerOpen', 'RateLimitStoreFailures']

let fake: FakeSupabaseAuth
let redis: RedisServer | undefined
let server: ServerProcess | undefined
let prometheus: Subprocess | undefined
let promUrl = ''
let baseUrl = ''
const dirs: string[] = []

interface Sample {
  metric: Record<string, string>
  value: [number, string]
}

async function query(expr: string): Promise<Sample[]> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = (await response.json()) as { status: string; error?: string; data?: { result: Sample[] } }
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`)
  return body.data?.result ?? []
}

/** Samples with a real number: NaN (a quantile or ratio over no events) is not data. */
const finite = (samples: Sample[]) => samples.filter((s) => Number.isFinite(Number(s.value[1])))

/** Waits for a scrape that started after `since` (seconds since 1970) and succeeded. */
async function scrapedAfter(since: number): Promise<void> {
  const until = Date.now() + 10_000
  while (Date.now() < until) {
    // timestamp() of a bare selector is the scrape's time; of `up == 1` it would be the query's.
    const [at] = await query('timestamp(up{job="pilar"})').catch(() => [])
    const [up] = await query('up{job="pilar"}').catch(() => [])
    if (at && up && Number(at.value[1]) > since && up.value[1] === '1') return
    await Bun.sleep(100)
  }
  throw new Error(
    `no successful scrape after ${since}; targets: ${await (await fetch(`${promUrl}/api/v1/targets`)).text()}`,
  )
}

const get = (path: string, token?: string, init: RequestInit = {}) =>
  fetch(`${baseUrl}${path}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
  })

/** Traffic while everything is up; returns the statuses seen, by what was asked. */
async function healthyRound(): Promise<Record<string, number[]>> {
  const seen: Record<string, number[]> = {}
  const note = (what: string, status: number) => {
    seen[what] ??= []
    seen[what].push(status)
  }
  for (let i = 0; i < 2; i++) {
    const token = await signToken(fake.secret)
    // One miss (a call to the auth server and a profile write), then hits.
    for (let j = 0; j < 3; j++) note('me', (await get('/api/v1/auth/me', token)).status)
    note('assessments', (await get('/api/v1/assessments', token)).status)
    note('missing assessment', (await get(`/api/v1/assessments/${crypto.randomUUID()}`, token)).status)
  }
  note('refused token', (await get('/api/v1/auth/me', await signToken('not-the-project-secret'))).status)
  note('unknown path', (await get('/no-such-page')).status)
  // RATE_LIMIT_ANON=3 per address: the fourth anonymous /api request of a minute is refused.
  for (let i = 0; i < 4; i++) note('anonymous', (await get('/api/v1/content')).status)
  const token = await signToken(fake.secret)
  const chat = await get('/api/v1/ai/chat', token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'How does our team decide who leads?' }),
  })
  await chat.text()
  note('llm', chat.status)
  return seen
}

/** Traffic while Redis is down and the auth server answers 500. */
async function outageRound(cached: string): Promise<Record<string, number[]>> {
  const seen: Record<string, number[]> = { cached: [], uncached: [] }
  // A cached token still works: the `api` limit fails open (counted as a store failure).
  for (let i = 0; i < 3; i++) seen.cached?.push((await get('/api/v1/auth/me', cached)).status)
  // Uncached tokens need the auth server: 503 AUTH_UNAVAILABLE until the breaker opens, then
  // 503 without asking.
  for (let i = 0; i < 8; i++)
    seen.uncached?.push((await get('/api/v1/auth/me', await signToken(fake.secret))).status)
  return seen
}

beforeAll(async () => {
  if (!enabled) return
  fake = new FakeSupabaseAuth().start()
  // Prometheus first: it hands static targets to its scrapers only on its discovery tick, ~5 s
  // after start (not configurable in 2.42), so it gets going while the server starts. Hence a
  // server port chosen here rather than by startServer.
  const serverPort = freePort()
  let promPort = freePort()
  while (promPort === serverPort) promPort = freePort()
  baseUrl = `http://127.0.0.1:${serverPort}`
  promUrl = `http://127.0.0.1:${promPort}`
  const work = mkdtempSync(join(tmpdir(), 'pilar-prometheus-'))
  dirs.push(work)
  // JSON is YAML: the config needs no YAML writer.
  const config = {
    global: { scrape_interval: '500ms', scrape_timeout: '450ms', evaluation_interval: '500ms' },
    rule_files: ['recording-rules.yml', 'alerting-rules.yml'].map((f) => join(DIR, f)),
    scrape_configs: [
      {
        job_name: 'pilar',
        metrics_path: '/metrics',
        authorization: { type: 'Bearer', credentials: METRICS_TOKEN },
        static_configs: [{ targets: [`127.0.0.1:${serverPort}`] }],
      },
    ],
  }
  writeFileSync(join(work, 'prometheus.yml'), JSON.stringify(config))
  const child = Bun.spawn(
    [
      prometheusBin ?? 'prometheus',
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  )
  prometheus = child

  redis = await startRedis()
  const dataDir = await preparedDataDir()
  dirs.push(dataDir)
  server = await startServer({
    DATA_DIR: dataDir,
    PORT: String(serverPort),
    SUPABASE_URL: fake.url,
    SUPABASE_ANON_KEY: fake.apiKey,
    METRICS_TOKEN,
    REDIS_URL: redis.url,
    RATE_LIMIT_ANON: '3',
    // Opens after a few failures and stays open for the rest of the file.
    BREAKER_VOLUME_THRESHOLD: '3',
    BREAKER_RESET_TIMEOUT_MS: '600000',
  })

  const until = Date.now() + 10_000
  while (
    !(await fetch(`${promUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > until) {
      throw new Error(`prometheus did not start: ${await new Response(child.stderr).text()}`)
    }
    await Bun.sleep(50)
  }
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  prometheus?.kill('SIGKILL')
  server?.child.kill('SIGKILL')
  await Promise.all([prometheus?.exited, server?.exited])
  await redis?.stop()
  await fake?.stop()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!enabled)('a real Prometheus scraping the server', () => {
  test('traffic, then an outage: the server answers as the rules expect', async () => {
    const first = await healthyRound()
    expect(first.me).toEqual([200, 200, 200, 200, 200, 200])
    expect(first.assessments).toEqual([200, 200])
    expect(first['missing assessment']).toEqual([404, 404])
    expect(first['refused token']).toEqual([401])
    expect(first['unknown path']).toEqual([404])
    expect(first.anonymous).toContain(429)
    expect(first.llm).toEqual([200])
    // Two samples of every series born in the first round, so rate() sees them move.
    await scrapedAfter(Date.now() / 1000)
    await healthyRound()
    const cached = await signToken(fake.secret)
    expect((await get('/api/v1/auth/me', cached)).status).toBe(200)

    await redis?.stop()
    fake.failWith = 500
    const outage = await outageRound(cached)
    expect(outage.cached).toEqual([200, 200, 200])
    expect(outage.uncached).toEqual(Array(8).fill(503))
    await scrapedAfter(Date.now() / 1000)
    await outageRound(cached)
    await scrapedAfter(Date.now() / 1000)
  }, 20_000)

  test('every recording rule, alert and dashboard expression returns data', async () => {
    const checks = [
      ...recordings.map((r) => ({ name: `record ${r.record}`, expr: r.expr })),
      ...alerts.map((r) => ({
        name: `alert ${r.alert}`,
        expr: r.alert && MUST_FIRE.includes(r.alert) ? r.expr : withoutThresholds(r.expr),
      })),
      ...panelExprs.map((p) => ({ name: `panel "${p.name}"`, expr: p.expr })),
    ]
    // Every alert but the provoked ones compares with a number: a threshold the pattern above
    // missed would leave that alert checked only where it happens to fire.
    const unchanged = alerts.filter(
      (a) => a.alert && !MUST_FIRE.includes(a.alert) && withoutThresholds(a.expr) === a.expr,
    )
    expect(unchanged.map((a) => a.alert)).toEqual([])
    // The recordings lag the scrape by up to one evaluation, and the alerts read the recordings.
    let data: string[] = []
    let missing: string[] = []
    const until = Date.now() + 6_000
    do {
      ;[data, missing] = [[], []]
      for (const check of checks) {
        if (finite(await query(check.expr)).length > 0) data.push(check.name)
        else missing.push(`${check.name}: ${check.expr}`)
      }
      if (missing.length === 0) break
      await Bun.sleep(250)
    } while (Date.now() < until)
    const ungated = alerts.filter((a) => a.alert && !MUST_FIRE.includes(a.alert)).length
    console.log(
      `monitoring: ${data.length} of ${checks.length} expressions returned data (${recordings.length} recordings, ${alerts.length} alerts of which ${ungated} without their thresholds, ${panelExprs.length} dashboard queries):\n  ${data.join('\n  ')}`,
    )
    expect(missing).toEqual([])
    for (const name of MUST_FIRE) expect(data).toContain(`alert ${name}`)
  }, 10_000)

  test('the rules load without errors, and the provoked alerts are active', async () => {
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] }
    }
    const all = rules.data.groups.flatMap((g) => g.rules)
    expect(all.length).toBe(recordings.length + alerts.length)
    expect(all.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([])
    // Pending, not firing: their `for` is a minute. The rule evaluation trails the queries
    // above by up to one interval.
    const wanted = ['CircuitBreakerOpen{supabase-auth}', 'RateLimitStoreFailures{api}']
    let active: string[] = []
    const until = Date.now() + 3_000
    while (Date.now() < until) {
      const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] }
      }
      active = body.data.alerts.map((a) => `${a.labels.alertname}{${a.labels.name ?? a.labels.policy ?? ''}}`)
      if (wanted.every((w) => active.includes(w))) break
      await Bun.sleep(200)
    }
    for (const name of wanted) expect(active).toContain(name)
  })
})
