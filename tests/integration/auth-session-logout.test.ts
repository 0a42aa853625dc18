import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, TEST_JWT_SECRET } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { type RedisServer, requireRedisInCi, startRedis } from '@tests/helpers/redis-server'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { tokenKey } from '@/lib/auth/bearer'
import { createLogger } from '@/lib/log'
import { RedisConnection } from '@/lib/redis/connection'

// Logout ends the whole session, not only the presented token: a refreshed token is a second
// token of the same `session_id`, and it must be refused at once wherever it was cached — on this
// instance, on other instances (Redis bus) and by a fresh cache — while the user's other
// sessions keep working.

/** Two tokens of one session (as after a refresh) and a token of another session, one user. */
async function sessionTokens(secret: string) {
  const sub = crypto.randomUUID()
  const email = `${sub}@example.test`
  const sessionId = crypto.randomUUID()
  // Different lifetimes, so the two tokens of the session differ even when signed in one second.
  const first = await signToken(secret, { sub, email, sessionId, expiresIn: 3_600 })
  const refreshed = await signToken(secret, { sub, email, sessionId, expiresIn: 3_599 })
  const otherSession = await signToken(secret, { sub, email, expiresIn: 3_600 })
  const headers = (token: string) => ({ authorization: `Bearer ${token}` })
  return { sub, sessionId, first, refreshed, otherSession, headers }
}

type Client = (path: string, init?: RequestInit) => Promise<Response>

const me = (client: Client, token: string) =>
  client('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
const logout = (client: Client, token: string) =>
  client('/api/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then(
    (r) => r.status,
  )

describe('local mode: logout ends the session', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await testApp(LOCAL_AUTH)
  }, DB_SETUP_TIMEOUT_MS)

  test('both tokens cached; logout with one → the other is refused at once, another session keeps working', async () => {
    const s = await sessionTokens(TEST_JWT_SECRET)
    for (const token of [s.first, s.refreshed, s.otherSession]) expect(await me(t.request, token)).toBe(200)
    expect(await logout(t.request, s.first)).toBe(204)
    expect(await me(t.request, s.refreshed)).toBe(401)
    expect(await me(t.request, s.first)).toBe(401)
    expect(await me(t.request, s.otherSession)).toBe(200)
    // The revocation is by session id in public.auth_revoked_sessions: a fresh cache refuses
    // the refreshed token too, and still accepts the other session.
    const fresh = await testApp(LOCAL_AUTH)
    expect(await me(fresh.request, s.refreshed)).toBe(401)
    expect(await me(fresh.request, s.otherSession)).toBe(200)
  })

  test('the revocation outlives the presented token: a later-expiring token of the session stays refused after a purge', async () => {
    const sub = crypto.randomUUID()
    const sessionId = crypto.randomUUID()
    // exp is in whole seconds: start early in a second, so the short token lives ≥ 200 ms.
    if (Date.now() % 1000 > 800) await Bun.sleep(1000 - (Date.now() % 1000))
    const shortLived = await signToken(TEST_JWT_SECRET, { sub, sessionId, expiresIn: 1 })
    const later = await signToken(TEST_JWT_SECRET, { sub, sessionId, expiresIn: 3_600 })
    expect(await logout(t.request, shortLived)).toBe(204)
    // Past the presented token's exp (whole seconds), then another logout purges expired rows.
    const exp = (
      JSON.parse(Buffer.from(shortLived.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }
    ).exp
    await Bun.sleep(Math.max(0, exp * 1000 - Date.now()) + 20)
    expect(await logout(t.request, await signToken(TEST_JWT_SECRET, { expiresIn: 60 }))).toBe(204)
    const fresh = await testApp(LOCAL_AUTH)
    expect(await me(fresh.request, later)).toBe(401)
  })

  test('a token living longer than 30 days (exp − iat) is refused: no revocation row would outlive it', async () => {
    expect(await me(t.request, await signToken(TEST_JWT_SECRET, { expiresIn: 30 * 86_400 }))).toBe(200)
    expect(await me(t.request, await signToken(TEST_JWT_SECRET, { expiresIn: 30 * 86_400 + 1 }))).toBe(401)
  })
})

describe('Supabase mode: logout ends the session', () => {
  const fake = new FakeSupabaseAuth().start()
  const supabaseApp = () => testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey })
  let t: TestApp
  beforeAll(async () => {
    t = await supabaseApp()
  }, DB_SETUP_TIMEOUT_MS)
  afterAll(() => fake.stop())

  test('both tokens cached; logout with one → the other is refused at once, another session keeps working', async () => {
    const s = await sessionTokens(fake.secret)
    for (const token of [s.first, s.refreshed, s.otherSession]) expect(await me(t.request, token)).toBe(200)
    const calls = fake.calls.user
    expect(await logout(t.request, s.first)).toBe(204)
    expect(fake.calls.logout).toBe(1)
    expect(await me(t.request, s.refreshed)).toBe(401)
    expect(await me(t.request, s.otherSession)).toBe(200)
    // The refreshed token was asked about again (and refused); the other session came from memory.
    expect(fake.calls.user).toBe(calls + 1)
    // Supabase Auth revoked the session, not only the token: a fresh cache refuses the refreshed token.
    const fresh = await supabaseApp()
    expect(await me(fresh.request, s.refreshed)).toBe(401)
    expect(await me(fresh.request, s.otherSession)).toBe(200)
  })
})

const redisAvailable = requireRedisInCi()

describe.skipIf(!redisAvailable)('two instances over a real Redis: logout ends the session on both', () => {
  let redis: RedisServer
  let a: ServedApp
  let b: ServedApp
  let spy: RedisConnection
  const announcements: string[] = []
  beforeAll(async () => {
    redis = await startRedis()
    a = await servedApp({ ...LOCAL_AUTH, REDIS_URL: redis.url })
    b = await servedApp({ ...LOCAL_AUTH, REDIS_URL: redis.url })
    // Listens to the revocation channel the way the instances do, to see what travels.
    spy = new RedisConnection(redis.url, 'spy', createLogger('silent'), { commandTimeoutMs: 2_000 })
    await spy.start()
    await spy.client.subscribe('pilar:auth:revocations', (message) => void announcements.push(message))
    const deadline = Date.now() + 5_000
    while (!(a.services.auth.bus?.listening && b.services.auth.bus?.listening) && Date.now() < deadline) {
      await Bun.sleep(20)
    }
  }, DB_SETUP_TIMEOUT_MS)
  afterAll(async () => {
    spy?.close()
    await a?.stop()
    await b?.stop()
    await redis?.stop()
  })

  test('both tokens cached on both; logout on A → the other token is refused at once on A and B', async () => {
    expect(b.services.auth.bus?.listening).toBe(true)
    const s = await sessionTokens(TEST_JWT_SECRET)
    for (const app of [a, b]) {
      for (const token of [s.first, s.refreshed, s.otherSession]) expect(await me(app.fetch, token)).toBe(200)
    }
    expect(await logout(a.fetch, s.first)).toBe(204)
    expect(await me(b.fetch, s.refreshed)).toBe(401)
    expect(await me(a.fetch, s.refreshed)).toBe(401)
    expect(await me(b.fetch, s.first)).toBe(401)
    for (const app of [a, b]) expect(await me(app.fetch, s.otherSession)).toBe(200)

    // The announcement names the token and the session by hashes only.
    const sent = announcements.map((m) => JSON.parse(m) as Record<string, unknown>)
    const mine = sent.find((m) => m.key === tokenKey(s.first))
    expect(mine).toMatchObject({ kind: 'token', session: expect.stringMatching(/^[0-9a-f]{64}$/) })
    const raw = JSON.stringify(announcements)
    for (const secret of [s.sessionId, s.sub, s.first, s.refreshed]) expect(raw).not.toContain(secret)
  })
})
