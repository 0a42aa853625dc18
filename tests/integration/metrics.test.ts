import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'

const METRICS_TOKEN = 'scrape-token-for-tests-0001'
let t: TestApp
let admin: TestUser
let user: TestUser

beforeAll(async () => {
  t = await testApp({ ...LOCAL_AUTH, METRICS_TOKEN })
  admin = await newUser({ admin: true })
  user = await newUser()
}, DB_SETUP_TIMEOUT_MS)

const scrape = async () => {
  const response = await t.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(response.status).toBe(200)
  return response.text()
}

/** A sample's value, or 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (wanted.length === 0 && line.startsWith(`${name} `)) return Number(line.slice(name.length + 1))
    if (!line.startsWith(`${name}{`)) continue
    const inside = line.slice(name.length + 1, line.indexOf('}'))
    const parts = inside.split(',')
    if (wanted.every((w) => parts.includes(w))) return Number(line.slice(line.indexOf('}') + 2))
  }
  return 0
}

// One sample line of the Prometheus text format: name, optional labels, a number.
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/

describe('/metrics', () => {
  test('needs METRICS_TOKEN or an admin: anonymous 401, user 403', async () => {
    expect((await t.request('/metrics')).status).toBe(401)
    expect((await t.request('/metrics', { headers: user.headers })).status).toBe(403)
    expect((await t.request('/metrics', { headers: admin.headers })).status).toBe(200)
  })

  test('is Prometheus text: every line a comment or a well-formed sample', async () => {
    const response = await t.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(response.headers.get('content-type')).toStartWith('text/plain')
    const lines = (await response.text()).split('\n').filter((l) => l.trim() !== '')
    expect(lines.length).toBeGreaterThan(10)
    for (const line of lines) {
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/)
      else expect(line).toMatch(SAMPLE)
    }
  })

  test('moves when requests are made: HTTP counts, auth cache, LLM tokens and latency', async () => {
    const before = await scrape()
    for (let i = 0; i < 3; i++) await t.request('/health')
    await t.request('/api/v1/auth/me', { headers: user.headers })
    await t.request('/api/v1/auth/me', { headers: user.headers })
    await t.request('/api/v1/ai/chat', {
      method: 'POST',
      headers: { ...user.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'metrics please' }),
    })
    const after = await scrape()
    const health = { route: '/health', method: 'GET', status: '200' }
    expect(sample(after, 'http_requests_total', health) - sample(before, 'http_requests_total', health)).toBe(
      3,
    )
    expect(sample(after, 'http_request_duration_seconds_count', health)).toBeGreaterThanOrEqual(3)
    expect(sample(after, 'auth_cache_lookups', { result: 'hit' })).toBeGreaterThan(
      sample(before, 'auth_cache_lookups', { result: 'hit' }),
    )
    const local = { provider: 'local', model: 'local-extractive-v1' }
    expect(sample(after, 'llm_tokens_total', { ...local, direction: 'output' })).toBeGreaterThan(0)
    expect(
      sample(after, 'llm_request_duration_seconds_count', { ...local, outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1)
    expect(sample(after, 'circuit_breaker_state', { name: 'local' })).toBe(0)
  })
})

describe('/api/v1/admin/stats', () => {
  test('admin only; per-route counts and percentiles from the same measurements, cache and breakers', async () => {
    expect((await t.request('/api/v1/admin/stats', { headers: user.headers })).status).toBe(403)
    for (let i = 0; i < 4; i++) await t.request('/ready')
    const response = await t.request('/api/v1/admin/stats', { headers: admin.headers })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      http: {
        routes: {
          route: string
          count: number
          errors: number
          p50_ms: number
          p95_ms: number
          p99_ms: number
        }[]
      }
      auth_cache: Record<string, number>
      breakers: { name: string; state: string }[]
      rate_limits: { rejected: number }
    }
    const ready = body.http.routes.find((r) => r.route === '/ready')
    expect(ready?.count).toBeGreaterThanOrEqual(4)
    expect(ready?.errors).toBe(0)
    expect(ready?.p50_ms).toBeGreaterThan(0)
    expect(ready?.p95_ms).toBeGreaterThanOrEqual(ready?.p50_ms ?? 0)
    expect(ready?.p99_ms).toBeGreaterThanOrEqual(ready?.p95_ms ?? 0)
    expect(body.auth_cache.max_entries).toBe(10_000)
    expect(body.breakers.map((b) => `${b.name}:${b.state}`)).toContain('local:closed')
    expect(body.rate_limits).toEqual({ rejected: 0 })
  })
})

describe('rate-limit and database metrics', () => {
  test('a 429 moves rate_limit_rejections_total and admin stats; statements move db_query_duration_seconds', async () => {
    const limited = await testApp({ ...LOCAL_AUTH, METRICS_TOKEN, RATE_LIMIT_AI: '1' })
    const metrics = async () =>
      (await limited.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text()
    const before = await metrics()
    // Conversation reads spend the per-user `api` quota; an AI route spends `ai` as well.
    expect((await limited.request('/api/v1/ai/conversations', { headers: user.headers })).status).toBe(200)
    const analyze = () =>
      limited.request('/api/v1/ai/analyze-content', {
        method: 'POST',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'How our team decides who leads.' }),
      })
    expect((await analyze()).status).toBe(200)
    expect((await analyze()).status).toBe(429)
    const after = await metrics()
    expect(sample(after, 'rate_limit_rejections_total', { policy: 'ai' })).toBe(1)
    expect(sample(after, 'rate_limit_rejections_total', { policy: 'api' })).toBe(0)
    const selects = { statement: 'select', outcome: 'ok' }
    expect(sample(after, 'db_query_duration_seconds_count', selects)).toBeGreaterThan(
      sample(before, 'db_query_duration_seconds_count', selects),
    )
    const stats = (await (
      await limited.request('/api/v1/admin/stats', { headers: admin.headers })
    ).json()) as {
      rate_limits: { rejected: number }
    }
    expect(stats.rate_limits).toEqual({ rejected: 1 })
    await limited.services.close()
  })
})

describe('auth_upstream_errors_total', () => {
  const fake = new FakeSupabaseAuth().start()
  afterAll(() => fake.stop())

  test('counts verifications the auth server left unanswered, not refused tokens (as the cache counts them)', async () => {
    const supabase = await testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey, METRICS_TOKEN })
    const metrics = async () =>
      (await supabase.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text()
    const me = async (token: string) =>
      (await supabase.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status
    try {
      const before = await metrics()
      // Present from the first scrape, as a counter: rate() and the alert need no first error.
      expect(before).toContain('# TYPE auth_upstream_errors_total counter')
      expect(before).toMatch(/^auth_upstream_errors_total 0$/m)
      expect(await me(await signToken(fake.secret))).toBe(200)
      // Supabase Auth said no: an answer, not an upstream error.
      expect(await me(await signToken('not-the-project-secret-000000000'))).toBe(401)
      expect(sample(await metrics(), 'auth_upstream_errors_total')).toBe(0)
      fake.failWith = 500
      expect(await me(await signToken(fake.secret))).toBe(503)
      expect(await me(await signToken(fake.secret))).toBe(503)
      expect(sample(await metrics(), 'auth_upstream_errors_total')).toBe(2)
      expect(supabase.services.auth.counters().upstream_errors).toBe(2)
    } finally {
      fake.failWith = null
      await supabase.services.close()
    }
  })
})
