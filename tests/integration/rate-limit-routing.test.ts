import { beforeAll, expect, test } from 'bun:test'
import { testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { requireAuth } from '@/lib/http/auth'
import { createRouter } from '@/routes/router'

beforeAll(() => sharedDatabase(), DB_SETUP_TIMEOUT_MS)

// Hono wraps the handlers of a sub-router that has its own onError. The /api limiter must still
// see the route's auth middleware (and leave the request to its per-user limit), or every
// request with a token would also spend its address's anonymous quota — the NAT lock-out again.
test('a route in a sub-router with its own onError is still limited per user, not per address', async () => {
  const t = await testApp({ ...LOCAL_AUTH, RATE_LIMIT_ANON: '1', RATE_LIMIT_API: '100' })
  const sub = createRouter()
  sub.onError((_error, c) => c.text('sub-router error', 500))
  sub.get('/api/v1/test/composed', requireAuth(), (c) => c.text(c.get('user').id))
  t.app.route('/', sub)
  const [alice, bob] = [await newUser(), await newUser()]
  const statuses: number[] = []
  for (const user of [alice, bob, alice, bob]) {
    const res = await t.request('/api/v1/test/composed', { headers: user.headers })
    statuses.push(res.status)
    expect(res.headers.get('RateLimit-Limit')).toBe('100')
  }
  expect(statuses).toEqual([200, 200, 200, 200])
})
