import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { otherAlgorithmToken, signToken, unsignedToken } from '@tests/fakes/tokens'
import { type TestApp, testApp } from '@tests/helpers/app'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { ErrorBody } from '@/lib/errors/api-error'

// Supabase mode end to end: the real supabase-js client inside SupabaseVerifier talks to a fake
// GoTrue on a loopback socket.
const fake = new FakeSupabaseAuth().start()
let t: TestApp

function supabaseApp(env: Record<string, string> = {}) {
  return testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey, ...env })
}

beforeAll(async () => {
  t = await supabaseApp()
}, DB_SETUP_TIMEOUT_MS)

beforeEach(() => fake.reset())

afterAll(() => fake.stop())

const me = (app: TestApp, authorization?: string) =>
  app.request('/api/v1/auth/me', authorization === undefined ? {} : { headers: { authorization } })

async function expect401(response: Response) {
  expect(response.status).toBe(401)
  expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
  expect(((await response.json()) as ErrorBody).error.code).toBe('UNAUTHORIZED')
}

describe('Supabase mode: which tokens pass', () => {
  test('a valid token → 200 with the user; its profile row is created on first sight', async () => {
    const sub = crypto.randomUUID()
    const response = await me(t, `Bearer ${await signToken(fake.secret, { sub, email: 'ada@example.test' })}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ user: { id: sub, email: 'ada@example.test', role: 'user' } })
    const rows = await t.services.db.asService((tx) =>
      tx.query('select email, role from public.user_profiles where id = $1', [sub]),
    )
    expect(rows).toEqual([{ email: 'ada@example.test', role: 'user' }])
  })

  const refused: [string, () => Promise<string>][] = [
    ['expired', async () => `Bearer ${await signToken(fake.secret, { expiresIn: -10 })}`],
    ['not yet valid', async () => `Bearer ${await signToken(fake.secret, { notBeforeIn: 600 })}`],
    ['forged signature', async () => `Bearer ${await signToken('some-other-secret-entirely-000000')}`],
    ['alg none', async () => `Bearer ${unsignedToken()}`],
    ['another algorithm', async () => `Bearer ${await otherAlgorithmToken(fake.secret)}`],
    ['wrong audience', async () => `Bearer ${await signToken(fake.secret, { audience: 'service' })}`],
  ]
  for (const [name, make] of refused) {
    test(`${name} → 401 (Supabase Auth said no)`, async () => {
      await expect401(await me(t, await make()))
      expect(fake.calls.user).toBe(1)
    })
  }

  const neverSent: [string, string | undefined][] = [
    ['no header', undefined],
    ['empty header', ''],
    ['Bearer with no token', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['malformed token', 'Bearer not-a-jwt'],
    ['a 100 KB header', `Bearer ${'a'.repeat(50_000)}.${'b'.repeat(50_000)}.c`],
  ]
  for (const [name, header] of neverSent) {
    test(`${name} → 401 without asking the auth server`, async () => {
      await expect401(await me(t, header))
      expect(fake.calls.user).toBe(0)
    })
  }

  test('role comes from app_metadata, never user_metadata', async () => {
    const claimsAdmin = await signToken(fake.secret, { userMetadataRole: 'admin' })
    expect(await (await me(t, `Bearer ${claimsAdmin}`)).json()).toMatchObject({ user: { role: 'user' } })
    const realAdmin = await signToken(fake.secret, { admin: true })
    expect(await (await me(t, `Bearer ${realAdmin}`)).json()).toMatchObject({ user: { role: 'admin' } })
  })
})

describe('Supabase mode: the cache', () => {
  test('a cache hit makes no upstream call', async () => {
    const header = `Bearer ${await signToken(fake.secret)}`
    expect((await me(t, header)).status).toBe(200)
    expect((await me(t, header)).status).toBe(200)
    expect((await me(t, header)).status).toBe(200)
    expect(fake.calls.user).toBe(1)
  })

  test('a token expiring in 2 s is refused after 2 s although the TTL is 60 s', async () => {
    const header = `Bearer ${await signToken(fake.secret, { expiresIn: 2 })}`
    expect((await me(t, header)).status).toBe(200)
    expect((await me(t, header)).status).toBe(200)
    expect(fake.calls.user).toBe(1)
    await Bun.sleep(2_100)
    await expect401(await me(t, header))
  }, 10_000)

  test('100 concurrent first requests with one token → exactly 1 upstream call', async () => {
    fake.latencyMs = 100
    const header = `Bearer ${await signToken(fake.secret)}`
    const responses = await Promise.all(Array.from({ length: 100 }, () => me(t, header)))
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    expect(fake.calls.user).toBe(1)
  })

  test('logout revokes the session at Supabase Auth; the token is refused right after, here and by an instance that had not cached it', async () => {
    const header = `Bearer ${await signToken(fake.secret)}`
    expect((await me(t, header)).status).toBe(200)
    const logout = await t.request('/api/v1/auth/logout', {
      method: 'POST',
      headers: { authorization: header },
    })
    expect(logout.status).toBe(204)
    expect(fake.calls.logout).toBe(1)
    await expect401(await me(t, header)) // inside the 60 s TTL
    // A second instance with an empty cache asks Supabase, which says the session is gone.
    const other = await supabaseApp()
    await expect401(await me(other, header))
  })

  test('upstream down → 503 AUTH_UNAVAILABLE with Retry-After for unknown tokens, 200 for cached ones', async () => {
    const cached = `Bearer ${await signToken(fake.secret)}`
    expect((await me(t, cached)).status).toBe(200)
    await fake.stop()
    try {
      const unknown = await me(t, `Bearer ${await signToken(fake.secret)}`)
      expect(unknown.status).toBe(503)
      expect(unknown.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(((await unknown.json()) as ErrorBody).error.code).toBe('AUTH_UNAVAILABLE')
      expect((await me(t, cached)).status).toBe(200)
    } finally {
      fake.start()
    }
  })

  for (const status of [500, 503, 429]) {
    test(`upstream ${status} → 503, never 401`, async () => {
      const app = await supabaseApp()
      fake.failWith = status
      const response = await me(app, `Bearer ${await signToken(fake.secret)}`)
      expect(response.status).toBe(503)
      expect(((await response.json()) as ErrorBody).error.code).toBe('AUTH_UNAVAILABLE')
    })
  }

  test('a wrong or rotated API key is our problem, not the user’s: 503, never 401', async () => {
    const misconfigured = await testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: 'rotated-key' })
    const response = await me(misconfigured, `Bearer ${await signToken(fake.secret)}`)
    expect(response.status).toBe(503)
    expect(((await response.json()) as ErrorBody).error.code).toBe('AUTH_UNAVAILABLE')
  })

  test('repeated upstream failures open the breaker: calls stop, /ready says degraded, Retry-After counts down', async () => {
    const app = await supabaseApp({ BREAKER_VOLUME_THRESHOLD: '3', BREAKER_RESET_TIMEOUT_MS: '30000' })
    fake.failWith = 500
    for (let i = 0; i < 3; i++) await me(app, `Bearer ${await signToken(fake.secret)}`)
    const callsWhenOpen = fake.calls.user
    const rejected = await me(app, `Bearer ${await signToken(fake.secret)}`)
    expect(rejected.status).toBe(503)
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThan(20)
    expect(fake.calls.user).toBe(callsWhenOpen)
    const ready = await app.request('/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      checks: { auth: { status: 'error', mode: 'supabase', breaker: 'open' } },
    })
  })

  test('the request log carries a hash of the user id, never the id or the token', async () => {
    const sub = crypto.randomUUID()
    const token = await signToken(fake.secret, { sub })
    await t.request('/api/v1/auth/me', {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'auth-log-1' },
    })
    const line = t.logs.find((l) => l.request_id === 'auth-log-1')
    expect(line?.user).toMatch(/^[0-9a-f]{16}$/)
    const everything = JSON.stringify(t.logs)
    expect(everything).not.toContain(sub)
    expect(everything).not.toContain(token)
  })
})
