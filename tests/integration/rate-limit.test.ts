import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { type ServedApp, servedApp } from '@tests/helpers/serve'

// Rate limits through a real socket (the client address comes from it), memory store.
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

const PUBLIC_ROUTE = '/api/v1/rag/connections'

async function statuses(responses: Promise<Response>[]) {
  return (await Promise.all(responses)).map((r) => r.status)
}

describe('per-address limit on every /api route', () => {
  test('headers count down, then 429 RATE_LIMITED with Retry-After; /health is not limited', async () => {
    const app = await serve({ RATE_LIMIT_API: '3' })
    for (const remaining of [2, 1, 0]) {
      const res = await app.fetch(PUBLIC_ROUTE)
      expect(res.status).toBe(200)
      expect(res.headers.get('RateLimit-Limit')).toBe('3')
      expect(res.headers.get('RateLimit-Remaining')).toBe(String(remaining))
      expect(Number(res.headers.get('RateLimit-Reset'))).toBeGreaterThan(0)
      expect(Number(res.headers.get('RateLimit-Reset'))).toBeLessThanOrEqual(60)
    }
    const refused = await app.fetch(PUBLIC_ROUTE)
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('Retry-After'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(20)
    expect(refused.headers.get('RateLimit-Remaining')).toBe('0')
    const body = (await refused.json()) as { error: { code: string; request_id: string } }
    expect(body.error.code).toBe('RATE_LIMITED')
    expect(body.error.request_id).toBe(refused.headers.get('X-Request-Id') ?? 'missing')
    // Other routes share the address's quota; /health is outside /api.
    expect((await app.fetch('/api/v1/auth/me')).status).toBe(429)
    const health = await app.fetch('/health')
    expect(health.status).toBe(200)
    expect(health.headers.get('RateLimit-Limit')).toBeNull()
    expect(await app.services.metrics.rateLimitRejections()).toBe(2)
  })

  test('random X-Forwarded-For values do not escape the limit without TRUST_PROXY', async () => {
    const app = await serve({ RATE_LIMIT_API: '5' })
    const spoofed = () => ({ 'X-Forwarded-For': `203.0.113.${Math.floor(Math.random() * 250)}` })
    const codes = await statuses(
      Array.from({ length: 30 }, () => app.fetch(PUBLIC_ROUTE, { headers: spoofed() })),
    )
    expect(codes.filter((s) => s === 200)).toHaveLength(5)
    expect(codes.filter((s) => s === 429)).toHaveLength(25)
  })

  test('behind a trusted proxy each forwarded client has its own quota (the header is used only then)', async () => {
    const app = await serve({ RATE_LIMIT_API: '5', TRUST_PROXY: 'loopback' })
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
    expect(sameClient.filter((s) => s === 200)).toHaveLength(5)
  })
})

describe('per-user limit on /ai', () => {
  test('each user has their own quota; the tighter limit is the one in the headers', async () => {
    const app = await serve({ RATE_LIMIT_AI: '2' })
    const [alice, bob] = [await newUser(), await newUser()]
    const list = (headers: Record<string, string>) => app.fetch('/api/v1/ai/conversations', { headers })
    const first = await list(alice.headers)
    expect(first.status).toBe(200)
    expect(first.headers.get('RateLimit-Limit')).toBe('2')
    expect(first.headers.get('RateLimit-Remaining')).toBe('1')
    expect((await list(alice.headers)).status).toBe(200)
    const refused = await list(alice.headers)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
    expect((await list(bob.headers)).status).toBe(200)
    // Routes outside /ai are not charged to the AI quota.
    const me = await app.fetch('/api/v1/auth/me', { headers: alice.headers })
    expect(me.status).toBe(200)
    expect(me.headers.get('RateLimit-Limit')).toBe('1000000')
  })
})

describe('failed authentication per address', () => {
  test('after N refused tokens, unverified tokens from that address get 429; cached good ones still work', async () => {
    const app = await serve({ RATE_LIMIT_AUTH_FAILURES: '3' })
    const known = await newUser()
    expect((await app.fetch('/api/v1/auth/me', { headers: known.headers })).status).toBe(200)
    const bad = { authorization: `Bearer ${(await newUser()).token.slice(0, -4)}AAAA` }
    for (let i = 0; i < 3; i++)
      expect((await app.fetch('/api/v1/auth/me', { headers: bad })).status).toBe(401)
    const blocked = await app.fetch('/api/v1/auth/me', { headers: bad })
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
    // A valid token nobody has verified yet is refused before verification, too…
    const fresh = await newUser()
    expect((await app.fetch('/api/v1/auth/me', { headers: fresh.headers })).status).toBe(429)
    // Verified: the good token and the first bad one (repeats of it hit the negative cache).
    expect(app.services.auth.counters().upstream_calls).toBe(2)
    // …but a token already known to be good is not a guess.
    expect((await app.fetch('/api/v1/auth/me', { headers: known.headers })).status).toBe(200)
  })

  test('requests without a token are 401 and do not spend the failure quota', async () => {
    const app = await serve({ RATE_LIMIT_AUTH_FAILURES: '2' })
    for (let i = 0; i < 5; i++) expect((await app.fetch('/api/v1/auth/me')).status).toBe(401)
    expect((await app.fetch('/api/v1/auth/me', { headers: (await newUser()).headers })).status).toBe(200)
  })
})

describe('admin ingest', () => {
  test('limited per admin', async () => {
    const app = await serve({ RATE_LIMIT_INGEST: '1' })
    const admin = await newUser({ admin: true })
    const ingest = () =>
      app.fetch('/api/v1/rag/ingest', {
        method: 'POST',
        headers: { ...admin.headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          documents: [
            { content: `Rate-limit ingest probe ${crypto.randomUUID()}`, metadata: { title: 'probe' } },
          ],
        }),
      })
    expect((await ingest()).status).toBe(200)
    const refused = await ingest()
    expect(refused.status).toBe(429)
    expect(refused.headers.get('RateLimit-Limit')).toBe('1')
  })
})
