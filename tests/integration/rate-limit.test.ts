import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { Hono } from 'hono'
import { parseBearer, tokenKey } from '@/lib/auth/bearer'
import { requireAuth } from '@/lib/http/auth'
import { isPerUserLimit } from '@/lib/http/rate-limit'
import { MemoryRateLimitStore } from '@/lib/ratelimit/memory-store'

// Rate limits over a real socket (the client address comes from it) and in process (every
// request then has the one address "unknown"), memory store. Every rule is run both ways.
const served: ServedApp[] = []
async function serve(env: Record<string, string>) {
  const app = await servedApp({ ...LOCAL_AUTH, ...env })
  served.push(app)
  return app
}
// The first server of the file may be the one that initializes the shared database.
beforeAll(() => sharedDatabase(), DB_SETUP_TIMEOUT_MS)
afterAll(async () => {
  for (const app of served) await app.stop()
})

/** The shipped limits (an empty variable means "not set"), instead of the tests' generous ones. */
const DEFAULT_LIMITS = {
  RATE_LIMIT_API: '',
  RATE_LIMIT_ANON: '',
  RATE_LIMIT_AI: '',
  RATE_LIMIT_AUTH_FAILURES: '',
}

const PUBLIC_ROUTE = '/api/v1/rag/connections'
const ORIGIN = 'https://app.example.com'
type Send = (path: string, init?: RequestInit) => Promise<Response>
const TRANSPORTS = [
  ['over a socket', (app: ServedApp): Send => app.fetch],
  ['in process', (app: ServedApp): Send => app.request],
] as const

async function statuses(responses: Promise<Response>[]) {
  return (await Promise.all(responses)).map((r) => r.status)
}

/** `count` requests, `concurrency` at a time; the statuses in order. */
async function burst(send: () => Promise<Response>, count: number, concurrency = 50) {
  const codes: number[] = []
  for (let i = 0; i < count; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - i) }, async () => {
      const res = await send()
      await res.arrayBuffer()
      return res.status
    })
    codes.push(...(await Promise.all(batch)))
  }
  return codes
}
const count = (codes: number[], status: number) => codes.filter((s) => s === status).length

/** One call of an AI route (limited by both the `api` and the `ai` policy). */
const analyzeContent = (send: Send, user: TestUser) =>
  send('/api/v1/ai/analyze-content', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'Our team shares credit and speaks up openly.' }),
  })

/** A JWT-shaped token nobody signed: refused by verification (not by its shape). */
const garbageToken = (user: TestUser) => `${user.token.slice(0, -8)}${crypto.randomUUID().slice(0, 8)}`

for (const [transport, sender] of TRANSPORTS) {
  describe(`${transport}: anonymous requests, per address`, () => {
    test('headers count down, then 429 RATE_LIMITED with Retry-After; /health is not limited', async () => {
      const app = await serve({ RATE_LIMIT_ANON: '3' })
      const send = sender(app)
      for (const remaining of [2, 1, 0]) {
        const res = await send(PUBLIC_ROUTE)
        expect(res.status).toBe(200)
        expect(res.headers.get('RateLimit-Limit')).toBe('3')
        expect(res.headers.get('RateLimit-Remaining')).toBe(String(remaining))
        expect(Number(res.headers.get('RateLimit-Reset'))).toBeGreaterThan(0)
        expect(Number(res.headers.get('RateLimit-Reset'))).toBeLessThanOrEqual(60)
      }
      const refused = await send(PUBLIC_ROUTE)
      expect(refused.status).toBe(429)
      const retryAfter = Number(refused.headers.get('Retry-After'))
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(20)
      expect(refused.headers.get('RateLimit-Remaining')).toBe('0')
      const body = (await refused.json()) as { error: { code: string; request_id: string } }
      expect(body.error.code).toBe('RATE_LIMITED')
      expect(body.error.request_id).toBe(refused.headers.get('X-Request-Id') ?? 'missing')
      // Other anonymous requests share the address's quota; /health is outside /api.
      expect((await send('/api/v1/auth/me')).status).toBe(429)
      const health = await send('/health')
      expect(health.status).toBe(200)
      expect(health.headers.get('RateLimit-Limit')).toBeNull()
      expect(await app.services.metrics.rateLimitRejections()).toBe(2)
    })

    test('a 429 carries the CORS headers, Vary and X-Request-Id, so a browser app can read it', async () => {
      const app = await serve({ RATE_LIMIT_ANON: '1', RATE_LIMIT_API: '1', CORS_ORIGINS: ORIGIN })
      const send = sender(app)
      const user = await newUser()
      const headers = { origin: ORIGIN }
      // Anonymous (refused by the /api layer that also writes CORS), then per user (by the route's).
      for (const init of [{ headers }, { headers: { ...headers, ...user.headers } }]) {
        expect((await send('/api/v1/auth/me', init)).status).toBe(init.headers === headers ? 401 : 200)
        const refused = await send('/api/v1/auth/me', init)
        expect(refused.status).toBe(429)
        expect(refused.headers.get('access-control-allow-origin')).toBe(ORIGIN)
        expect(refused.headers.get('access-control-expose-headers')).toContain('Retry-After')
        expect(refused.headers.get('vary')).toBe('Origin')
        expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
        expect(refused.headers.get('ratelimit-remaining')).toBe('0')
      }
    })

    test('a token on a route that reads none (unknown route, or a known path with another method) is limited by address, as anonymous', async () => {
      const app = await serve({ RATE_LIMIT_ANON: '2', RATE_LIMIT_API: '100' })
      const user = await newUser()
      const send = sender(app)
      const first = await send('/api/v1/no-such-route', { headers: user.headers })
      expect(first.status).toBe(404)
      expect(first.headers.get('RateLimit-Limit')).toBe('2')
      expect(first.headers.get('RateLimit-Remaining')).toBe('1')
      expect(first.headers.get('X-Request-Id')).not.toBeNull()
      const second = await send('/api/v1/auth/me', { method: 'PUT', headers: user.headers })
      expect(second.status).toBe(404)
      expect(second.headers.get('RateLimit-Remaining')).toBe('0')
      const refused = await send('/api/v1/no-such-route', { headers: user.headers })
      expect(refused.status).toBe(429)
      expect(refused.headers.get('Retry-After')).not.toBeNull()
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
      // The same token on a real route spends the user's quota, not the address's spent one.
      const me = await send('/api/v1/auth/me', { headers: user.headers })
      expect(me.status).toBe(200)
      expect(me.headers.get('RateLimit-Limit')).toBe('100')
    })

    test('writes with a token that match no route, and POST /teams/{id} for an id other than join, spend the address quota too', async () => {
      const app = await serve({ RATE_LIMIT_ANON: '3', RATE_LIMIT_API: '100' })
      const user = await newUser()
      const send = sender(app)
      const post = (path: string) =>
        send(path, {
          method: 'POST',
          headers: { ...user.headers, 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'ABCD-1234' }),
        })
      const unknown = await post('/api/v1/no-such-route')
      expect(unknown.status).toBe(404)
      expect(unknown.headers.get('RateLimit-Remaining')).toBe('2')
      // Served as POST /teams/{id}: its "no such route" comes before its auth middleware.
      const notJoin = await post(`/api/v1/teams/${crypto.randomUUID()}`)
      expect(notJoin.status).toBe(404)
      expect(notJoin.headers.get('RateLimit-Limit')).toBe('3')
      expect(notJoin.headers.get('RateLimit-Remaining')).toBe('1')
      expect((await post('/api/v1/no-such-route')).status).toBe(404)
      expect((await post('/api/v1/no-such-route')).status).toBe(429)
      expect((await post(`/api/v1/teams/${crypto.randomUUID()}`)).status).toBe(429)
      // The real join spends the user's own quota.
      const join = await post('/api/v1/teams/join')
      expect(join.status).toBe(404) // no team has that code
      expect(join.headers.get('RateLimit-Limit')).toBe('100')
    })

    test('a write with a token that the body checks refuse (415, 400, 413) spends the address quota, as it never reaches auth', async () => {
      const app = await serve({ RATE_LIMIT_ANON: '3', RATE_LIMIT_API: '100', BODY_LIMIT_BYTES: '1024' })
      const junk = { authorization: 'Bearer made.up.token' }
      const send = sender(app)
      const wrongType = await send('/api/v1/auth/logout', {
        method: 'POST',
        // Declared, as on the wire: an in-process request carries no framing header of its own.
        headers: { ...junk, 'content-type': 'text/plain', 'content-length': '5' },
        body: 'hello',
      })
      expect(wrongType.status).toBe(415)
      expect(wrongType.headers.get('RateLimit-Remaining')).toBe('2')
      const createTeam = (body: string) =>
        send('/api/v1/teams', {
          method: 'POST',
          headers: { ...junk, 'content-type': 'application/json' },
          body,
        })
      const badJson = await createTeam('{"name":')
      expect(badJson.status).toBe(400)
      expect(badJson.headers.get('RateLimit-Remaining')).toBe('1')
      const tooLarge = await createTeam(JSON.stringify({ name: 'x'.repeat(2_000) }))
      expect(tooLarge.status).toBe(413)
      expect(tooLarge.headers.get('RateLimit-Remaining')).toBe('0')
      const refused = await createTeam('{"name":')
      expect(refused.status).toBe(429)
    })

    test('/ready is limited per address and no longer says what a store failure does', async () => {
      const app = await serve({ RATE_LIMIT_ANON: '2' })
      const send = sender(app)
      const first = await send('/ready')
      expect(first.status).toBe(200)
      expect(first.headers.get('RateLimit-Limit')).toBe('2')
      const report = (await first.json()) as { checks: { rate_limits: Record<string, unknown> } }
      expect(report.checks.rate_limits).toEqual({ status: 'ok', store: 'memory' })
      expect((await send('/ready')).status).toBe(200)
      const refused = await send('/ready')
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
      // Its own namespace: probes never spend the anonymous API quota, nor the other way round.
      expect((await send(PUBLIC_ROUTE)).status).toBe(200)
    })
  })

  describe(`${transport}: authenticated requests, per user (the shipped limits)`, () => {
    test("user A's burst and 30 bad tokens never refuse user B's valid token; the per-address version does", async () => {
      // The shipped limits over an hour instead of a minute, so nothing refills during the burst.
      const app = await serve({ ...DEFAULT_LIMITS, RATE_LIMIT_API: '600', RATE_LIMIT_WINDOW_SECONDS: '3600' })
      const send = sender(app)
      const outcome = await natScenario(send)
      // B is served with a token nobody had verified, and A was stopped at A's own quota.
      expect(outcome.b).toEqual([200, 200])
      expect(count(outcome.a, 200)).toBe(600)
      expect(count(outcome.a, 429)).toBe(10)
      // Bad tokens are verified and refused (401); past the failure quota they are slowed (429).
      expect(count(outcome.bad, 401)).toBe(30)
      expect(outcome.lockedBad).toBe(429)

      // Control: the same requests with the same limits keyed by address (the code before this
      // fix), in front of an app that only verifies: A's burst locks B out…
      const inner = await serve({})
      const naive = perAddress(inner, sender(inner))
      const control = await natScenario(naive.send)
      expect(control.b).toEqual([429, 429])
      // …and so do 30 bad tokens alone, even for a token that verifies.
      naive.resetRequests()
      const bad = { authorization: `Bearer ${garbageToken(await newUser())}` }
      expect(await burst(() => naive.send('/api/v1/auth/me', { headers: bad }), 30, 10)).toEqual(
        Array(30).fill(401),
      )
      expect((await naive.send('/api/v1/auth/me', { headers: (await newUser()).headers })).status).toBe(429)
    }, 20_000)

    test('history (conversation lists, messages, deletes) spends the api quota, never the ai quota', async () => {
      const app = await serve(DEFAULT_LIMITS)
      const send = sender(app)
      const user = await newUser()
      for (let i = 0; i < 20; i++) {
        const list = await send('/api/v1/ai/conversations', { headers: user.headers })
        expect(list.status).toBe(200)
        expect(list.headers.get('RateLimit-Limit')).toBe('600')
      }
      const chat = await send('/api/v1/ai/chat', {
        method: 'POST',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'How do I voice dissent in my team?' }),
      })
      expect(chat.status).toBe(200)
      // The tighter quota is the one shown: the AI routes' own 20, of which one is spent.
      expect(chat.headers.get('RateLimit-Limit')).toBe('20')
      expect(chat.headers.get('RateLimit-Remaining')).toBe('19')
      const { conversation_id } = (await chat.json()) as { conversation_id: string }
      const messages = await send(`/api/v1/ai/conversations/${conversation_id}/messages`, {
        headers: user.headers,
      })
      expect(messages.status).toBe(200)
      expect(messages.headers.get('RateLimit-Limit')).toBe('600')
      const removed = await send(`/api/v1/ai/conversations/${conversation_id}`, {
        method: 'DELETE',
        headers: user.headers,
      })
      expect(removed.status).toBe(204)
      expect(removed.headers.get('RateLimit-Limit')).toBe('600')
    })
  })

  describe(`${transport}: per-user limits`, () => {
    test('the api limit is spent once per request, on a cache miss as on a hit', async () => {
      const app = await serve({ RATE_LIMIT_API: '2' })
      const send = sender(app)
      const [alice, bob] = [await newUser(), await newUser()]
      const me = (user: TestUser) => send('/api/v1/auth/me', { headers: user.headers })
      const miss = await me(alice)
      expect(miss.status).toBe(200)
      expect(miss.headers.get('RateLimit-Remaining')).toBe('1')
      const hit = await me(alice)
      expect(hit.status).toBe(200)
      expect(hit.headers.get('RateLimit-Remaining')).toBe('0')
      const refused = await me(alice)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
      expect((await me(bob)).status).toBe(200)
    })

    test('each user has their own ai quota; the tighter limit is the one in the headers', async () => {
      const app = await serve({ RATE_LIMIT_AI: '2' })
      const [alice, bob] = [await newUser(), await newUser()]
      const analyze = (user: TestUser) => analyzeContent(sender(app), user)
      const first = await analyze(alice)
      expect(first.status).toBe(200)
      expect(first.headers.get('RateLimit-Limit')).toBe('2')
      expect(first.headers.get('RateLimit-Remaining')).toBe('1')
      expect((await analyze(alice)).status).toBe(200)
      const refused = await analyze(alice)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
      expect((await analyze(bob)).status).toBe(200)
      // Routes outside the AI ones are not charged to the AI quota.
      const me = await sender(app)('/api/v1/auth/me', { headers: alice.headers })
      expect(me.status).toBe(200)
      expect(me.headers.get('RateLimit-Limit')).toBe('1000000')
    })

    test('the other way round: when the api limit is the tighter one, its headers are shown', async () => {
      const app = await serve({ RATE_LIMIT_API: '5', RATE_LIMIT_AI: '100' })
      const user = await newUser()
      const analyzed = await analyzeContent(sender(app), user)
      expect(analyzed.status).toBe(200)
      expect(analyzed.headers.get('RateLimit-Limit')).toBe('5')
      expect(analyzed.headers.get('RateLimit-Remaining')).toBe('4')
    })
  })

  describe(`${transport}: failed authentication per address (local mode)`, () => {
    test('past N refused tokens, refused ones get 429; tokens that verify are always served', async () => {
      const app = await serve({ RATE_LIMIT_AUTH_FAILURES: '3' })
      const send = sender(app)
      const known = await newUser()
      expect((await send('/api/v1/auth/me', { headers: known.headers })).status).toBe(200)
      const me = (token: string) => send('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })
      for (let i = 0; i < 3; i++) expect((await me(garbageToken(known))).status).toBe(401)
      const blocked = await me(garbageToken(known))
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
      // A valid token nobody has verified yet is verified (a signature check) and served…
      const fresh = await newUser()
      expect((await me(fresh.token)).status).toBe(200)
      // …and so is one already in the cache.
      expect((await me(known.token)).status).toBe(200)
    })

    test('requests without a token are 401 and do not spend the failure quota', async () => {
      const app = await serve({ RATE_LIMIT_AUTH_FAILURES: '2' })
      const send = sender(app)
      for (let i = 0; i < 5; i++) expect((await send('/api/v1/auth/me')).status).toBe(401)
      const bad = { authorization: `Bearer ${garbageToken(await newUser())}` }
      expect((await send('/api/v1/auth/me', { headers: bad })).status).toBe(401)
    })
  })
}

describe('the client address (socket only: in process there is no peer)', () => {
  test('random X-Forwarded-For values do not escape the limit without TRUST_PROXY', async () => {
    const app = await serve({ RATE_LIMIT_ANON: '5' })
    const spoofed = () => ({ 'X-Forwarded-For': `203.0.113.${Math.floor(Math.random() * 250)}` })
    const codes = await statuses(
      Array.from({ length: 30 }, () => app.fetch(PUBLIC_ROUTE, { headers: spoofed() })),
    )
    expect(count(codes, 200)).toBe(5)
    expect(count(codes, 429)).toBe(25)
  })

  test('behind a trusted proxy each forwarded client has its own quota (the header is used only then)', async () => {
    const app = await serve({ RATE_LIMIT_ANON: '5', TRUST_PROXY: 'loopback' })
    const codes = await statuses(
      Array.from({ length: 30 }, (_, i) =>
        app.fetch(PUBLIC_ROUTE, { headers: { 'X-Forwarded-For': `203.0.113.${i}` } }),
      ),
    )
    expect(codes.every((s) => s === 200)).toBe(true)
    // Left-most entries are the client's own words: a fixed right-most hop is one client.
    const sameClient = await statuses(
      Array.from({ length: 8 }, (_, i) =>
        app.fetch(PUBLIC_ROUTE, { headers: { 'X-Forwarded-For': `10.${i}.0.1, 198.51.100.77` } }),
      ),
    )
    expect(count(sameClient, 200)).toBe(5)
  })
})

describe('authenticated requests, per user (the shipped limits)', () => {
  test('1,000 distinct users from one address within a minute are all served (socket: misses, in process: hits)', async () => {
    const app = await serve(DEFAULT_LIMITS)
    const users = await Promise.all(Array.from({ length: 1_000 }, () => newUser()))
    const me = async (send: Send, user: TestUser) => {
      const res = await send('/api/v1/auth/me', { headers: user.headers })
      await res.arrayBuffer()
      return `${res.status} ${res.headers.get('RateLimit-Limit')}`
    }
    for (const [, sender] of TRANSPORTS) {
      let next = 0
      const seen: string[] = []
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          while (next < users.length) seen.push(await me(sender(app), users[next++] as TestUser))
        }),
      )
      // Each user spends their own quota (600 per minute), whoever shares their address.
      expect(seen.filter((line) => line === '200 600')).toHaveLength(1_000)
    }
    // The first pass verified every token, the second was answered from the cache.
    expect(app.services.auth.counters().upstream_calls).toBe(1_000)
  }, 20_000)
})

describe('failed authentication per address (Supabase mode)', () => {
  const fake = new FakeSupabaseAuth().start()
  afterAll(() => fake.stop())
  const forged = () => signToken('some-other-secret-entirely-000000')

  test('a locked address: a fresh token that verifies is served, refused ones get 429; cached ones are served', async () => {
    fake.reset()
    const app = await serve({
      SUPABASE_URL: fake.url,
      SUPABASE_ANON_KEY: fake.apiKey,
      RATE_LIMIT_AUTH_FAILURES: '2',
    })
    const me = (token: string) =>
      app.fetch('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })
    const known = await signToken(fake.secret)
    expect((await me(known)).status).toBe(200)
    expect((await me(await forged())).status).toBe(401)
    expect((await me(await forged())).status).toBe(401)
    const locked = await me(await forged())
    expect(locked.status).toBe(429)
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    // Someone else behind the same address signs in: verified upstream, and served.
    const callsBefore = fake.calls.user
    expect((await me(await signToken(fake.secret))).status).toBe(200)
    expect(fake.calls.user).toBe(callsBefore + 1)
    expect((await me(known)).status).toBe(200)
  })

  test('a burst of forged tokens from one address: at most 8 verifications in flight (1 once locked), the breaker stays closed, no 5xx', async () => {
    fake.reset()
    fake.latencyMs = 20
    const app = await serve({
      SUPABASE_URL: fake.url,
      SUPABASE_ANON_KEY: fake.apiKey,
      RATE_LIMIT_AUTH_FAILURES: '30',
    })
    const tokens = await Promise.all(Array.from({ length: 300 }, forged))
    const codes = await Promise.all(
      tokens.map(async (token) => {
        const res = await app.fetch('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })
        await res.arrayBuffer()
        return res.status
      }),
    )
    expect(codes.filter((code) => code !== 401 && code !== 429)).toEqual([])
    expect(fake.maxInFlight).toBeLessThanOrEqual(8)
    // 8 at a time, 64 waiting, the rest refused at once: far fewer calls than tokens.
    expect(fake.calls.user).toBeLessThanOrEqual(8 + 64)
    const ready = (await (await app.fetch('/ready')).json()) as { checks: { auth: { breaker?: string } } }
    expect(ready.checks.auth.breaker).toBe('closed')
    // Once locked, the address verifies one token at a time, and a real user is still served.
    fake.maxInFlight = 0
    const more = await Promise.all(Array.from({ length: 6 }, forged))
    const valid = await signToken(fake.secret)
    const late = await Promise.all(
      [...more, valid].map((token) =>
        app.fetch('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status),
      ),
    )
    expect(fake.maxInFlight).toBe(1)
    expect(late.at(-1)).toBe(200)
    expect(late.slice(0, -1).every((code) => code === 429)).toBe(true)
    fake.latencyMs = 0
  }, 20_000)
})

/**
 * From one address: user A's burst of 610 (over A's 600), 30 bad tokens and one more, then
 * user B's fresh token, twice (a miss, then a hit).
 */
async function natScenario(send: Send) {
  const [a, b] = [await newUser(), await newUser()]
  const aCodes = await burst(() => send('/api/v1/auth/me', { headers: a.headers }), 610)
  const bad = await burst(
    () => send('/api/v1/auth/me', { headers: { authorization: `Bearer ${garbageToken(a)}` } }),
    30,
    10,
  )
  const locked = await send('/api/v1/auth/me', { headers: { authorization: `Bearer ${garbageToken(a)}` } })
  const bCodes = [
    (await send('/api/v1/auth/me', { headers: b.headers })).status,
    (await send('/api/v1/auth/me', { headers: b.headers })).status,
  ]
  return { a: aCodes, bad, lockedBad: locked.status, b: bCodes }
}

/**
 * The naive version, for the control: the same limits (600 per window, 30 failures) keyed by
 * the client address in front of the real app, with the old auth-failure lock — an address
 * over its failures is refused before any token that is not cached is verified.
 */
function perAddress(app: ServedApp, send: Send) {
  let requests = new MemoryRateLimitStore(10_000)
  const failures = new MemoryRateLimitStore(10_000)
  return {
    resetRequests() {
      requests = new MemoryRateLimitStore(10_000)
    },
    async send(path: string, init?: RequestInit): Promise<Response> {
      if (!requests.check('api', 600, 3_600_000, true).allowed) return new Response(null, { status: 429 })
      const header = new Headers(init?.headers).get('authorization') ?? undefined
      const bearer = parseBearer(header)
      const cached = bearer.ok && app.services.auth.cache.peek(tokenKey(bearer.token)) !== undefined
      if (header && !cached && !failures.check('auth', 30, 3_600_000, false).allowed) {
        return new Response(null, { status: 429 })
      }
      const res = await send(path, init)
      if (res.status === 401 && header) failures.check('auth', 30, 3_600_000, true)
      return res
    },
  }
}

/**
 * The `/api` routes (method and path) none of whose handlers is a per-user limit: a request with
 * a token passes the `/api` limit (rate-limit.ts apiRateLimit), so on such a route it would not
 * be limited at all.
 */
function routesWithoutPerUserLimit(app: {
  routes: { method: string; path: string; handler: unknown }[]
}): string[] {
  const endpoints = new Map<string, unknown[]>()
  for (const route of app.routes) {
    if (!route.path.startsWith('/api/') || route.path.endsWith('*') || route.method === 'ALL') continue
    const key = `${route.method} ${route.path}`
    endpoints.set(key, [...(endpoints.get(key) ?? []), route.handler])
  }
  return [...endpoints].filter(([, handlers]) => !handlers.some(isPerUserLimit)).map(([key]) => key)
}

describe('the route table', () => {
  test('every /api route has an auth middleware that spends the per-user limit, so no token skips the limits', async () => {
    const app = await serve({})
    expect(app.app.routes.filter((r) => r.path.startsWith('/api/')).length).toBeGreaterThan(70)
    expect(routesWithoutPerUserLimit(app.app)).toEqual([])
  })

  test('the check finds a route without one (so the test above can fail)', () => {
    const probe = new Hono()
    probe.get('/api/v1/limited', requireAuth(), (c) => c.text('ok'))
    probe.get('/api/v1/open', (c) => c.text('ok'))
    expect(routesWithoutPerUserLimit(probe)).toEqual(['GET /api/v1/open'])
  })
})
