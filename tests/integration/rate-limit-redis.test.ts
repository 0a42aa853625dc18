import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import { type RedisServer, requireRedisInCi, startRedis } from '@tests/helpers/redis-server'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { createLogger } from '@/lib/log'
import { decision } from '@/lib/ratelimit/gcra'
import { RateLimiter } from '@/lib/ratelimit/limiter'
import { MemoryRateLimitStore } from '@/lib/ratelimit/memory-store'
import { RedisRateLimitStore } from '@/lib/ratelimit/redis-store'
import type { RateLimitStore } from '@/lib/ratelimit/store'
import { RedisConnection } from '@/lib/redis/connection'

// Real redis-server processes on free loopback ports; several app instances share each one.
const available = requireRedisInCi()
const PUBLIC_ROUTE = '/api/v1/rag/connections'
const silent = createLogger('silent')

const served: ServedApp[] = []
async function serve(env: Record<string, string>) {
  const app = await servedApp({ ...LOCAL_AUTH, ...env })
  served.push(app)
  return app
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return true
    await Bun.sleep(50)
  }
  return false
}

async function metricValue(app: ServedApp, name: string, labels: string): Promise<number> {
  const text = await app.services.metrics.registry.metrics()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels))
  return line ? Number(line.split(' ').at(-1)) : 0
}

describe.skipIf(!available)('rate limits shared through Redis', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const app of served.splice(0)) await app.stop()
    await redis?.stop()
  })

  test('two instances, 1,000 concurrent requests, limit 100: exactly 100 allowed', async () => {
    // A 10-minute window: one unit comes back every 6 s, far longer than the burst takes.
    // A generous command deadline: a check that timed out would fail open and be let through.
    const env = {
      REDIS_URL: redis.url,
      RATE_LIMIT_ANON: '100',
      RATE_LIMIT_WINDOW_SECONDS: '600',
      REDIS_TIMEOUT_MS: '5000',
    }
    const [a, b] = [await serve(env), await serve(env)]
    expect(a.services.rateLimiter.store.kind).toBe('redis')
    const requests = Array.from({ length: 1_000 }, (_, i) => (i % 2 ? a : b).fetch(PUBLIC_ROUTE))
    const codes = (await Promise.all(requests)).map((r) => r.status)
    expect(codes.filter((s) => s === 200)).toHaveLength(100)
    expect(codes.filter((s) => s === 429)).toHaveLength(900)
    const rejected =
      (await a.services.metrics.rateLimitRejections()) + (await b.services.metrics.rateLimitRejections())
    expect(rejected).toBe(900)
    expect(await metricValue(a, 'rate_limit_store_failures_total', '')).toBe(0)
    expect(await metricValue(b, 'rate_limit_store_failures_total', '')).toBe(0)
  })

  test('the Redis script and the memory store give the same answers, huge limits included', async () => {
    const connection = new RedisConnection(redis.url, 'parity', silent, { commandTimeoutMs: 2_000 })
    await connection.start()
    const shared = new RedisRateLimitStore(connection)
    const local = new MemoryRateLimitStore(1_000)
    const key = `parity-${crypto.randomUUID()}`
    const seen = { redis: [] as string[], memory: [] as string[] }
    for (let i = 0; i < 8; i++) {
      const consume = i !== 3
      const r = await shared.check(key, 5, 60_000, consume)
      const m = local.check(key, 5, 60_000, consume)
      seen.redis.push(`${r.allowed}/${r.remaining}`)
      seen.memory.push(`${m.allowed}/${m.remaining}`)
    }
    expect(seen.redis).toEqual(seen.memory)
    expect(seen.redis).toEqual([
      'true/4',
      'true/3',
      'true/2',
      'true/2',
      'true/1',
      'true/0',
      'false/0',
      'false/0',
    ])
    // An interval below the clock's float resolution must not make Redis reject the write.
    const huge = await shared.check(`huge-${crypto.randomUUID()}`, 1_000_000_000, 60_000, true)
    expect(huge.allowed).toBe(true)
    connection.close()
  })

  test('the naive GET-then-SET store this replaces lets far more through the same race', async () => {
    // Control: the same limiter over a read-then-write store loses the race this test catches.
    const connections = [0, 1].map(
      () => new RedisConnection(redis.url, 'naive', silent, { commandTimeoutMs: 2_000 }),
    )
    await Promise.all(connections.map((c) => c.start()))
    const naive = (redis: RedisConnection): RateLimitStore => ({
      kind: 'redis',
      async check(key, limit, windowMs) {
        const count = Number((await redis.send('GET', [key])) ?? 0)
        if (count >= limit) return decision(false, windowMs, limit, windowMs)
        await redis.send('SET', [key, String(count + 1), 'PX', String(windowMs)])
        return decision(true, ((count + 1) * windowMs) / limit, limit, windowMs)
      },
      close() {},
    })
    const recorder = { rejected() {}, storeFailure() {} }
    const limiters = connections.map(
      (c) =>
        new RateLimiter(
          naive(c),
          { api: { name: 'api', limit: 100, windowMs: 600_000, failClosed: false } },
          { logger: silent, recorder },
        ),
    )
    const outcomes = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => limiters[i % 2]?.check('api', 'naive-race')),
    )
    const allowed = outcomes.filter((o) => o?.allowed).length
    for (const c of connections) c.close()
    expect(allowed).toBeGreaterThan(100)
  })

  test('a logout on one instance is refused on the other at once', async () => {
    const env = { REDIS_URL: redis.url }
    const [a, b] = [await serve(env), await serve(env)]
    expect(await until(() => b.services.auth.bus?.listening === true, 5_000)).toBe(true)
    const user = await newUser()
    // B has verified and cached the token.
    expect((await b.fetch('/api/v1/auth/me', { headers: user.headers })).status).toBe(200)
    expect(b.services.auth.counters().size).toBeGreaterThan(0)
    expect((await a.fetch('/api/v1/auth/logout', { method: 'POST', headers: user.headers })).status).toBe(204)
    const after = await b.fetch('/api/v1/auth/me', { headers: user.headers })
    expect(after.status).toBe(401)
  })

  test('after Redis restarts, logouts still reach the other instance', async () => {
    const env = { REDIS_URL: redis.url }
    const [a, b] = [await serve(env), await serve(env)]
    const user = await newUser()
    expect((await b.fetch('/api/v1/auth/me', { headers: user.headers })).status).toBe(200)
    await redis.stop()
    await redis.start()
    const bothListening = () =>
      [a, b].every((app) => app.services.redis?.connected && app.services.auth.bus?.listening)
    expect(await until(bothListening, 10_000)).toBe(true)
    // B cleared its cache on reconnecting (it may have missed announcements); fill it again.
    expect((await b.fetch('/api/v1/auth/me', { headers: user.headers })).status).toBe(200)
    expect(b.services.auth.counters().size).toBeGreaterThan(0)
    expect((await a.fetch('/api/v1/auth/logout', { method: 'POST', headers: user.headers })).status).toBe(204)
    expect((await b.fetch('/api/v1/auth/me', { headers: user.headers })).status).toBe(401)
  }, 20_000)

  test('control: without Redis the other instance keeps serving the logged-out token from its cache', async () => {
    const [a, b] = [await serve({}), await serve({})]
    const user = await newUser()
    expect((await b.fetch('/api/v1/auth/me', { headers: user.headers })).status).toBe(200)
    expect((await a.fetch('/api/v1/auth/logout', { method: 'POST', headers: user.headers })).status).toBe(204)
    // The weakness the pub/sub removes: B still believes its cached answer.
    expect((await b.fetch('/api/v1/auth/me', { headers: user.headers })).status).toBe(200)
  })
})

describe.skipIf(!available)('Redis outage', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const app of served.splice(0)) await app.stop()
    await redis?.stop()
  })

  test('Redis stopped: requests are still served (fail open), counted, and /ready says degraded; limits resume when it is back', async () => {
    const app = await serve({ REDIS_URL: redis.url, RATE_LIMIT_ANON: '3', REDIS_TIMEOUT_MS: '200' })
    for (let i = 0; i < 3; i++) expect((await app.fetch(PUBLIC_ROUTE)).status).toBe(200)
    expect((await app.fetch(PUBLIC_ROUTE)).status).toBe(429)

    await redis.stop()
    const during = await Promise.all(Array.from({ length: 10 }, () => app.fetch(PUBLIC_ROUTE)))
    expect(during.map((r) => r.status)).toEqual(Array(10).fill(200))
    // Fail open: there is no decision, so no limit headers are invented.
    expect(during[0]?.headers.get('RateLimit-Limit')).toBeNull()
    expect(await metricValue(app, 'rate_limit_store_failures_total', 'outcome="fail_open"')).toBe(10)
    const ready = (await (await app.fetch('/ready')).json()) as {
      status: string
      checks: { rate_limits: { status: string; redis: string } }
    }
    expect(ready.status).toBe('degraded')
    expect(ready.checks.rate_limits).toMatchObject({ status: 'error', redis: 'disconnected' })
    expect(app.logs.some((l) => String(l.msg).startsWith('rate-limit store unavailable'))).toBe(true)

    // Back (empty, as after a crash): the client reconnects and limiting resumes.
    await redis.start()
    expect(await until(() => app.services.redis?.connected === true, 10_000)).toBe(true)
    const codes = []
    for (let i = 0; i < 4; i++) codes.push((await app.fetch(PUBLIC_ROUTE)).status)
    expect(codes).toEqual([200, 200, 200, 429])
  }, 20_000)

  test('per policy: with Redis down api stays open, ai and auth_failures fail closed; tokens that verify are served', async () => {
    const app = await serve({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '200' })
    const known = await newUser()
    expect((await app.fetch('/api/v1/auth/me', { headers: known.headers })).status).toBe(200)
    await redis.stop()
    const analyze = (headers: Record<string, string>) => ({
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Our team shares credit and speaks up openly.' }),
    })
    for (const [transport, send] of [
      ['socket', app.fetch],
      ['in process', app.request],
    ] as const) {
      const seen = {
        cached: (await send('/api/v1/auth/me', { headers: known.headers })).status,
        fresh: (await send('/api/v1/auth/me', { headers: (await newUser()).headers })).status,
        ai: (await send('/api/v1/ai/analyze-content', analyze(known.headers))).status,
        refused: (await send('/api/v1/auth/me', { headers: { authorization: `Bearer ${known.token}x` } }))
          .status,
      }
      expect({ transport, ...seen }).toEqual({ transport, cached: 200, fresh: 200, ai: 429, refused: 429 })
    }
    expect(
      await metricValue(app, 'rate_limit_store_failures_total', 'policy="ai",outcome="fail_closed"'),
    ).toBe(2)
    expect(
      await metricValue(app, 'rate_limit_store_failures_total', 'policy="api",outcome="fail_open"'),
    ).toBe(6)
    await redis.start()
  }, 20_000)

  test('fail closed: with Redis down limited requests get 429 RATE_LIMITED with Retry-After, never a 5xx', async () => {
    const app = await serve({ REDIS_URL: redis.url, RATE_LIMIT_FAIL_CLOSED: 'true', REDIS_TIMEOUT_MS: '200' })
    expect((await app.fetch(PUBLIC_ROUTE)).status).toBe(200)
    await redis.stop()
    const res = await app.fetch(PUBLIC_ROUTE)
    expect(res.status).toBe(429)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    expect(await metricValue(app, 'rate_limit_store_failures_total', 'outcome="fail_closed"')).toBe(1)
    // Outside /api nothing depends on Redis.
    expect((await app.fetch('/health')).status).toBe(200)
    await redis.start()
  }, 20_000)
})
