import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { type TestApp, testApp } from '@tests/helpers/app'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'

// Account deletion in Supabase mode: our rows go in one transaction, then the auth user through
// supabase-js's auth.admin.deleteUser (with a service-role key) — or, without one, every session
// of the user through a global sign-out — against a fake GoTrue on a loopback socket.

const fake = new FakeSupabaseAuth().start()
beforeEach(() => fake.reset())
afterAll(() => fake.stop())

async function signedIn(app: TestApp) {
  const id = crypto.randomUUID()
  const authorization = `Bearer ${await signToken(fake.secret, { sub: id, email: `${id}@example.test` })}`
  const me = await app.request('/api/v1/users/me', { headers: { authorization } })
  expect(me.status).toBe(200)
  await app.request('/api/v1/assessments', {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ pillar_id: 'divsexp', mode: 'egalitarian' }),
  })
  return { id, authorization }
}

const remaining = (app: TestApp, id: string) =>
  app.services.db.transaction(async (tx) => ({
    profiles: (await tx.query('select 1 from public.user_profiles where id = $1', [id])).length,
    assessments: (await tx.query('select 1 from public.assessment_sessions where user_id = $1', [id])).length,
    tombstones: (await tx.query('select 1 from public.auth_revoked_sessions where user_id = $1', [id]))
      .length,
  }))

describe('Supabase mode with SUPABASE_SERVICE_ROLE_KEY', () => {
  let t: TestApp
  test(
    'our rows, then the auth user (one admin call); the token is refused right after',
    async () => {
      t = await testApp({
        SUPABASE_URL: fake.url,
        SUPABASE_ANON_KEY: fake.apiKey,
        SUPABASE_SERVICE_ROLE_KEY: fake.serviceRoleKey,
      })
      const user = await signedIn(t)
      expect(await remaining(t, user.id)).toEqual({ profiles: 1, assessments: 1, tombstones: 0 })
      const response = await t.request('/api/v1/users/me', {
        method: 'DELETE',
        headers: { authorization: user.authorization },
      })
      expect(response.status).toBe(204)
      expect(fake.calls.deleteUser).toBe(1)
      expect(fake.deletedUsers.has(user.id)).toBe(true)
      // No local tombstone: Supabase Auth itself refuses the token now.
      expect(await remaining(t, user.id)).toEqual({ profiles: 0, assessments: 0, tombstones: 0 })
      const after = await t.request('/api/v1/users/me', { headers: { authorization: user.authorization } })
      expect(after.status).toBe(401)
      expect(await remaining(t, user.id)).toEqual({ profiles: 0, assessments: 0, tombstones: 0 })
    },
    DB_SETUP_TIMEOUT_MS,
  )

  test('the auth server failing → 503 AUTH_UNAVAILABLE (our rows are already gone; a retry finishes it)', async () => {
    const user = await signedIn(t)
    fake.failWith = 500
    const response = await t.request('/api/v1/users/me', {
      method: 'DELETE',
      headers: { authorization: user.authorization },
    })
    expect(response.status).toBe(503)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('AUTH_UNAVAILABLE')
    expect(await remaining(t, user.id)).toEqual({ profiles: 0, assessments: 0, tombstones: 0 })
    fake.failWith = null
    const retry = await t.request('/api/v1/users/me', {
      method: 'DELETE',
      headers: { authorization: user.authorization },
    })
    expect(retry.status).toBe(204)
    expect(fake.deletedUsers.has(user.id)).toBe(true)
  })
})

describe('Supabase mode without a service-role key', () => {
  test(
    'our rows go, the auth user stays, every session of theirs is signed out: the token is refused',
    async () => {
      const t = await testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey })
      const user = await signedIn(t)
      const response = await t.request('/api/v1/users/me', {
        method: 'DELETE',
        headers: { authorization: user.authorization },
      })
      expect(response.status).toBe(204)
      expect(fake.calls.deleteUser).toBe(0)
      expect(fake.deletedUsers.has(user.id)).toBe(false)
      expect(fake.signedOutUsers.has(user.id)).toBe(true)
      expect(await remaining(t, user.id)).toEqual({ profiles: 0, assessments: 0, tombstones: 0 })
      expect(
        (await t.request('/api/v1/users/me', { headers: { authorization: user.authorization } })).status,
      ).toBe(401)
    },
    DB_SETUP_TIMEOUT_MS,
  )
})
