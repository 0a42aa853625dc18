import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, TEST_JWT_SECRET, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { localUserId, signLocalToken } from '@/lib/auth/local-tokens'
import { AdminUserService } from '@/services/admin/users'

// The operator's user list and role switch: admins only, e-mail prefix search matched
// literally, keyset pages, and a role change that the user's very next request sees although
// their token is cached.

let t: TestApp
let admin: TestUser

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  admin = await newUser({ admin: true })
}, DB_SETUP_TIMEOUT_MS)

const call = (user: TestUser, method: string, path: string, body?: unknown) =>
  callApi(t, user, method, path, body)

/** A user whose e-mail starts with `prefix`, seen once by the server (so their profile exists). */
async function seen(prefix: string): Promise<TestUser> {
  const user = await newUser()
  const email = `${prefix}${user.email}`
  const token = await signLocalToken(TEST_JWT_SECRET, { email, ttlSeconds: 3_600 })
  const made = { id: localUserId(email), email, token, headers: { authorization: `Bearer ${token}` } }
  expect((await call(made, 'GET', '/auth/me')).status).toBe(200)
  return made
}

describe('admin users', () => {
  test('list: newest first, e-mail prefix (literal, case-insensitive), cursor pages', async () => {
    const tag = `zq${crypto.randomUUID().slice(0, 8)}`
    const people = []
    for (let i = 0; i < 3; i++) people.push(await seen(`${tag}_${i}.`))
    const decoy = await seen(`${tag}x0.`) // `_` in the prefix must not match any character
    const first = await call(admin, 'GET', `/admin/users?q=${tag.toUpperCase()}_&limit=2`)
    expect(first.status).toBe(200)
    expect(first.body.data.map((u: { id: string }) => u.id)).toEqual([people[2]?.id, people[1]?.id])
    expect(first.body.data[0]).toMatchObject({ email: people[2]?.email, role: 'user' })
    expect(typeof first.body.data[0].last_seen_at).toBe('string')
    const second = await call(admin, 'GET', `/admin/users?q=${tag}_&limit=2&cursor=${first.body.next_cursor}`)
    expect(second.body.data.map((u: { id: string }) => u.id)).toEqual([people[0]?.id])
    expect(second.body.next_cursor).toBeNull()
    expect(JSON.stringify([first.body, second.body])).not.toContain(decoy.id)
  })

  test('a role change reaches the user on their next request, although their token is cached', async () => {
    const user = await seen('promoted.')
    expect((await call(user, 'GET', '/auth/me')).body.user.role).toBe('user')
    expect((await call(user, 'GET', '/admin/users')).status).toBe(403)
    const promoted = await call(admin, 'PATCH', `/admin/users/${user.id}`, { role: 'admin' })
    expect(promoted).toMatchObject({ status: 200, body: { user: { id: user.id, role: 'admin' } } })
    expect((await call(user, 'GET', '/auth/me')).body.user.role).toBe('admin')
    expect((await call(user, 'GET', '/admin/users')).status).toBe(200)
    await call(admin, 'PATCH', `/admin/users/${user.id}`, { role: 'user' })
    expect((await call(user, 'GET', '/admin/users')).status).toBe(403)
  })

  test('a non-admin’s 403 still shows the per-user limit the request spent', async () => {
    const user = await seen('limited.')
    const before = await t.request('/api/v1/auth/me', { headers: user.headers })
    const refused = await t.request('/api/v1/admin/users', { headers: user.headers })
    expect(refused.status).toBe(403)
    // The same policy as any of the user's requests (the exact count depends on the clock: the
    // quota refills between two requests a millisecond apart).
    const limit = Number(before.headers.get('ratelimit-limit'))
    expect(limit).toBeGreaterThan(0)
    expect(Number(refused.headers.get('ratelimit-limit'))).toBe(limit)
    expect(refused.headers.get('ratelimit-remaining')).toMatch(/^\d+$/)
    expect(Number(refused.headers.get('ratelimit-remaining'))).toBeLessThan(limit)
  })

  test('refusals: non-admins 403, unknown user 404, bad role or extra field 400, nothing changed', async () => {
    const user = await seen('plain.')
    const other = await seen('other.')
    expect((await call(user, 'PATCH', `/admin/users/${other.id}`, { role: 'admin' })).status).toBe(403)
    expect(
      (await call(admin, 'PATCH', `/admin/users/${crypto.randomUUID()}`, { role: 'admin' })).status,
    ).toBe(404)
    expect((await call(admin, 'PATCH', `/admin/users/${other.id}`, { role: 'owner' })).status).toBe(400)
    expect(
      (await call(admin, 'PATCH', `/admin/users/${other.id}`, { role: 'admin', email: 'x@y.z' })).status,
    ).toBe(400)
    expect((await call(admin, 'GET', '/admin/users?cursor=bogus')).status).toBe(400)
    expect((await call(other, 'GET', '/auth/me')).body.user.role).toBe('user')
  })
})

test('a role change answers only once the eviction has been announced to the other instances', async () => {
  const user = await seen('announced.')
  let announce: () => void = () => {}
  const evicted: string[] = []
  const service = new AdminUserService(t.services.db, (userId) => {
    evicted.push(userId)
    return new Promise<void>((resolve) => {
      announce = resolve
    })
  })
  let answered = false
  const change = service.setRole(user.id, 'admin').then((row) => {
    answered = true
    return row
  })
  // The update has run and the eviction started, but the announcement is still on its way.
  while (evicted.length === 0) await Bun.sleep(5)
  await Bun.sleep(20)
  expect(answered).toBe(false)
  announce()
  expect((await change).role).toBe('admin')
  expect(evicted).toEqual([user.id])
})
