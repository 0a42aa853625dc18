import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { testApp, testConfig } from '@tests/helpers/app'
import { LOCAL_AUTH, TEST_JWT_SECRET } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { decodeJwt } from 'jose'
import { buildContainer } from '@/container'
import { localUserId, signLocalToken } from '@/lib/auth/local-tokens'
import { type Database, type Tx, withRoles } from '@/lib/db/database'
import { createLogger } from '@/lib/log'
import { PASSWORD_HASH } from '@/services/accounts/local-accounts'
import { LocalAccountStore } from '@/services/accounts/local-accounts-store'

// Local accounts at /auth/v1 over a real socket: GoTrue's bodies and headers as auth-js reads
// them, one answer for an unknown e-mail and a wrong password, limits per e-mail and per address,
// refresh rotation with reuse detection that revokes the session, logout scopes, what is stored,
// and nothing of it in Supabase mode.

const V2024 = { 'x-supabase-api-version': '2024-01-01' }
const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8', ...V2024 }
const ORIGIN = 'http://localhost:5173'

interface Session {
  access_token: string
  token_type: string
  expires_in: number
  expires_at: number
  refresh_token: string
  user: { id: string; email: string; aud: string; role: string; user_metadata: Record<string, unknown> }
}

const freshEmail = () => `acct-${crypto.randomUUID()}@Example.test`
const PASSWORD = 'correct horse battery staple'

let app: ServedApp

const post = (path: string, body: unknown, headers: Record<string, string> = JSON_HEADERS) =>
  app.fetch(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
const signUp = (email: string, password = PASSWORD, data?: unknown) =>
  post('/auth/v1/signup', { email, password, data, gotrue_meta_security: {}, code_challenge: null })
const signIn = (email: string, password: string, target: ServedApp = app) =>
  target.fetch('/auth/v1/token?grant_type=password', {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ email, password, gotrue_meta_security: {} }),
  })
const refresh = (token: string) => post('/auth/v1/token?grant_type=refresh_token', { refresh_token: token })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const me = (token: string) => app.fetch('/api/v1/auth/me', { headers: bearer(token) }).then((r) => r.status)
const user = (token: string) => app.fetch('/auth/v1/user', { headers: { ...bearer(token), ...V2024 } })
const logout = (token: string, scope = 'global') =>
  app.fetch(`/auth/v1/logout?scope=${scope}`, { method: 'POST', headers: { ...bearer(token), ...V2024 } })

async function newAccount(email = freshEmail()) {
  const response = await signUp(email)
  expect(response.status).toBe(200)
  return { email, session: (await response.json()) as Session }
}

beforeAll(async () => {
  app = await servedApp({
    ...LOCAL_AUTH,
    CORS_ORIGINS: ORIGIN,
    BODY_LIMIT_BYTES: '16384',
    RATE_LIMIT_SIGNUP_ADDRESS: '100000',
    RATE_LIMIT_SIGNIN_ADDRESS: '100000',
  })
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await app.stop()
})

describe('sign-up', () => {
  test('answers a GoTrue session whose token the API accepts for the same user', async () => {
    const email = freshEmail()
    const response = await signUp(email, PASSWORD, { full_name: 'Ada Lovelace' })
    expect(response.status).toBe(200)
    const session = (await response.json()) as Session
    expect(session.token_type).toBe('bearer')
    expect(session.expires_in).toBe(3_600)
    const now = Math.floor(Date.now() / 1000)
    expect(Math.abs(session.expires_at - (now + 3_600))).toBeLessThanOrEqual(2)
    expect(session.refresh_token.length).toBeGreaterThanOrEqual(22)
    // The id `bun run token --email` gives the same address (lower-cased, as GoTrue stores it).
    expect(session.user).toMatchObject({
      id: localUserId(email),
      email: email.toLowerCase(),
      aud: 'authenticated',
      role: 'authenticated',
      user_metadata: { full_name: 'Ada Lovelace' },
    })
    const claims = decodeJwt(session.access_token)
    expect(claims.sub).toBe(localUserId(email))
    expect(typeof claims.session_id).toBe('string')
    expect(claims.exp).toBe(session.expires_at)
    // From the stored account, not from anything the client sent.
    expect(claims.app_metadata).toEqual({ provider: 'email', providers: ['email'] })
    const api = await app.fetch('/api/v1/auth/me', { headers: bearer(session.access_token) })
    expect(api.status).toBe(200)
    expect(((await api.json()) as { user: { id: string } }).user.id).toBe(localUserId(email))
  })

  test('a taken e-mail is 422 user_already_exists, in both API versions', async () => {
    const { email } = await newAccount()
    const again = await signUp(email.toUpperCase(), 'another password')
    expect(again.status).toBe(422)
    expect(again.headers.get('x-supabase-api-version')).toBe('2024-01-01')
    expect(await again.json()).toEqual({ code: 'user_already_exists', message: 'User already registered' })
    const legacy = await post(
      '/auth/v1/signup',
      { email, password: 'another password' },
      { 'content-type': 'application/json' },
    )
    expect(legacy.status).toBe(422)
    expect(legacy.headers.get('x-supabase-api-version')).toBeNull()
    expect(await legacy.json()).toEqual({
      code: 422,
      error_code: 'user_already_exists',
      msg: 'User already registered',
    })
    // The first password still signs in; the second never does.
    expect((await signIn(email, PASSWORD)).status).toBe(200)
    expect((await signIn(email, 'another password')).status).toBe(400)
  })

  test('a short password is 422 weak_password with its reasons', async () => {
    const response = await signUp(freshEmail(), 'short')
    expect(response.status).toBe(422)
    expect(await response.json()).toEqual({
      code: 'weak_password',
      message: 'Password should be at least 8 characters.',
      weak_password: { reasons: ['length'] },
    })
  })

  test('an account made from a `bun run token` user keeps that user (same id, its data)', async () => {
    const email = freshEmail()
    const devToken = await signLocalToken(TEST_JWT_SECRET, { email, ttlSeconds: 600 })
    expect(await me(devToken)).toBe(200)
    const assessment = await app.fetch('/api/v1/assessments', {
      method: 'POST',
      headers: { ...bearer(devToken), 'content-type': 'application/json' },
      body: JSON.stringify({ pillar_id: 'divsexp', mode: 'egalitarian' }),
    })
    expect(assessment.status).toBe(201)
    const { session } = await newAccount(email)
    expect(session.user.id).toBe(localUserId(email))
    const list = await app.fetch('/api/v1/assessments', { headers: bearer(session.access_token) })
    expect(((await list.json()) as { data: unknown[] }).data.length).toBe(1)
  })

  test('signing up with the e-mail of an --admin dev token does not make an admin', async () => {
    const email = freshEmail()
    const devToken = await signLocalToken(TEST_JWT_SECRET, { email, admin: true, ttlSeconds: 600 })
    expect(await me(devToken)).toBe(200) // writes the token's app_metadata (role admin) to auth.users
    const { session } = await newAccount(email)
    expect(decodeJwt(session.access_token).app_metadata).not.toHaveProperty('role')
    expect((session.user as { app_metadata?: object }).app_metadata).not.toHaveProperty('role')
    const answer = await app.fetch('/api/v1/auth/me', { headers: bearer(session.access_token) })
    expect(((await answer.json()) as { user: { role: string } }).user.role).toBe('user')
    expect((await app.fetch('/api/v1/admin/users', { headers: bearer(session.access_token) })).status).toBe(
      403,
    )
    // …nor later sign-ins, although the operator's --admin token keeps writing role admin back.
    expect(await me(devToken)).toBe(200)
    const again = (await (await signIn(email, PASSWORD)).json()) as Session
    expect(decodeJwt(again.access_token).app_metadata).not.toHaveProperty('role')
  })
})

describe('bad input is a GoTrue 4xx, never a 5xx', () => {
  test.each([
    ['NUL in data', () => signUp(freshEmail(), PASSWORD, { name: 'a\u0000b' }), 400, 'validation_failed'],
    [
      'data nested 20 deep (it goes into every token)',
      () => signUp(freshEmail(), PASSWORD, JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`)),
      400,
      'validation_failed',
    ],
    [
      'lone surrogate in a data key',
      () => signUp(freshEmail(), PASSWORD, { '\ud800': 1 }),
      400,
      'validation_failed',
    ],
    [
      'data over 8 KiB',
      () =>
        post('/auth/v1/signup', { email: freshEmail(), password: PASSWORD, data: { x: 'y'.repeat(9_000) } }),
      400,
      'validation_failed',
    ],
    ['data not an object', () => signUp(freshEmail(), PASSWORD, ['list']), 400, 'validation_failed'],
    ['invalid e-mail', () => signUp('not-an-email'), 400, 'validation_failed'],
    ['NUL in the e-mail', () => signUp('a\u0000b@example.test'), 400, 'validation_failed'],
    ['missing password', () => post('/auth/v1/signup', { email: freshEmail() }), 400, 'validation_failed'],
    ['malformed JSON', () => post('/auth/v1/signup', '{"email":'), 400, 'bad_json'],
    [
      'wrong content type',
      () => post('/auth/v1/signup', 'email=a', { 'content-type': 'text/plain', ...V2024 }),
      400,
      'validation_failed',
    ],
    [
      'body over BODY_LIMIT_BYTES',
      () => post('/auth/v1/signup', { email: freshEmail(), password: 'p'.repeat(20_000) }),
      413,
      'request_too_large',
    ],
    [
      'unknown grant_type',
      () => post('/auth/v1/token?grant_type=magic', { email: 'a@b.c', password: 'x' }),
      400,
      'validation_failed',
    ],
    [
      'no grant_type',
      () => post('/auth/v1/token', { email: 'a@b.c', password: 'x' }),
      400,
      'validation_failed',
    ],
    [
      'password grant without password',
      () => post('/auth/v1/token?grant_type=password', { email: 'a@b.c' }),
      400,
      'validation_failed',
    ],
    [
      'refresh grant without token',
      () => post('/auth/v1/token?grant_type=refresh_token', {}),
      400,
      'validation_failed',
    ],
    ['refresh token with NUL', () => refresh('abc\u0000def'), 400, 'refresh_token_not_found'],
    [
      'logout without a bearer',
      () => app.fetch('/auth/v1/logout?scope=local', { method: 'POST', headers: V2024 }),
      401,
      'no_authorization',
    ],
    [
      'unknown logout scope',
      async () => {
        const { session } = await newAccount()
        return app.fetch('/auth/v1/logout?scope=everyone', {
          method: 'POST',
          headers: { ...bearer(session.access_token), ...V2024 },
        })
      },
      400,
      'validation_failed',
    ],
  ])('%s', async (_name, send, status, code) => {
    const response = await send()
    const text = await response.text()
    expect(response.status).toBe(status)
    const body = JSON.parse(text) as { code: string; message: string }
    expect(body.code).toBe(code)
    expect(typeof body.message).toBe('string')
    expect(text).not.toContain('    at ')
  })
})

describe('password sign-in', () => {
  test('answers a new session for each sign-in', async () => {
    const { email, session: first } = await newAccount()
    const response = await signIn(email.toUpperCase(), PASSWORD)
    expect(response.status).toBe(200)
    const second = (await response.json()) as Session
    expect(decodeJwt(second.access_token).session_id).not.toBe(decodeJwt(first.access_token).session_id)
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(await me(second.access_token)).toBe(200)
  })

  test('an unknown e-mail and a wrong password get byte-identical answers', async () => {
    const { email } = await newAccount()
    const wrong = await signIn(email, 'wrong password!')
    const unknown = await signIn(freshEmail(), 'wrong password!')
    // A user known only from a dev token (no password) answers the same too.
    const devOnly = freshEmail()
    expect(await me(await signLocalToken(TEST_JWT_SECRET, { email: devOnly, ttlSeconds: 600 }))).toBe(200)
    const noPassword = await signIn(devOnly, 'wrong password!')
    const texts = await Promise.all([wrong.text(), unknown.text(), noPassword.text()])
    expect([wrong.status, unknown.status, noPassword.status]).toEqual([400, 400, 400])
    expect(texts[0]).toBe('{"code":"invalid_credentials","message":"Invalid login credentials"}')
    expect(texts[1]).toBe(texts[0] as string)
    expect(texts[2]).toBe(texts[0] as string)
  })
})

describe('sign-in limits', () => {
  let limited: ServedApp
  beforeAll(async () => {
    limited = await servedApp({
      ...LOCAL_AUTH,
      RATE_LIMIT_SIGNIN_EMAIL: '10',
      RATE_LIMIT_SIGNIN_ADDRESS: '60',
    })
  }, DB_SETUP_TIMEOUT_MS)
  afterAll(() => limited.stop())

  test('20 rapid wrong passwords for one e-mail are limited; another e-mail still signs in', async () => {
    const victim = (await newAccount()).email
    const other = (await newAccount()).email
    const statuses: number[] = []
    let refused: Response | undefined
    for (let i = 0; i < 20; i++) {
      const response = await signIn(victim, `guess ${i}`, limited)
      statuses.push(response.status)
      if (response.status === 429) refused ??= response
      else await response.body?.cancel()
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(400))
    expect(statuses.slice(10)).toEqual(Array(10).fill(429))
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused?.json()).toEqual({
      code: 'over_request_rate_limit',
      message: 'Request rate limit reached',
    })
    // Even the right password waits out the limit for that e-mail…
    expect((await signIn(victim, PASSWORD, limited)).status).toBe(429)
    // …while another e-mail from the same address is not limited.
    expect((await signIn(other, PASSWORD, limited)).status).toBe(200)
  })

  test('sign-ins from one address are limited whatever the e-mail', async () => {
    const byAddress = await servedApp({ ...LOCAL_AUTH, RATE_LIMIT_SIGNIN_ADDRESS: '3' })
    try {
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await signIn(freshEmail(), 'whatever', byAddress)).status)
      expect(statuses).toEqual([400, 400, 400, 429])
    } finally {
      await byAddress.stop()
    }
  })

  test('sign-ups from one address are limited', async () => {
    const signups = await servedApp({ ...LOCAL_AUTH, RATE_LIMIT_SIGNUP_ADDRESS: '2' })
    try {
      const send = () =>
        signups.fetch('/auth/v1/signup', {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify({ email: freshEmail(), password: PASSWORD }),
        })
      const statuses = [(await send()).status, (await send()).status, (await send()).status]
      expect(statuses).toEqual([200, 200, 429])
    } finally {
      await signups.stop()
    }
  })
})

describe('refresh', () => {
  test('rotates the refresh token; reusing a spent one revokes the whole session', async () => {
    const { email, session } = await newAccount()
    const other = (await (await signIn(email, PASSWORD)).json()) as Session
    const rotated = await refresh(session.refresh_token)
    expect(rotated.status).toBe(200)
    const next = (await rotated.json()) as Session
    expect(next.refresh_token).not.toBe(session.refresh_token)
    expect(decodeJwt(next.access_token).session_id).toBe(decodeJwt(session.access_token).session_id)
    expect(await me(next.access_token)).toBe(200)
    expect(await me(session.access_token)).toBe(200)

    const reused = await refresh(session.refresh_token)
    expect(reused.status).toBe(400)
    expect(await reused.json()).toEqual({
      code: 'refresh_token_already_used',
      message: 'Invalid Refresh Token: Already Used',
    })
    // Every access token of the session is refused at once (both were cached), and so is the
    // session's newest refresh token; the user's other session is untouched.
    expect(await me(next.access_token)).toBe(401)
    expect(await me(session.access_token)).toBe(401)
    expect((await user(next.access_token)).status).toBe(401)
    const afterReuse = await refresh(next.refresh_token)
    expect(afterReuse.status).toBe(400)
    expect(((await afterReuse.json()) as { code: string }).code).toBe('refresh_token_not_found')
    expect(await me(other.access_token)).toBe(200)
    expect((await refresh(other.refresh_token)).status).toBe(200)
  })

  test('an unknown refresh token is refresh_token_not_found', async () => {
    const response = await refresh('never-issued-token')
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      code: 'refresh_token_not_found',
      message: 'Invalid Refresh Token: Refresh Token Not Found',
    })
  })

  test('of two concurrent exchanges of one token, one rotates and the other is reuse', async () => {
    const { session } = await newAccount()
    const [a, b] = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token)])
    expect([a.status, b.status].sort()).toEqual([200, 400])
    expect(await me(session.access_token)).toBe(401)
  })
})

describe('user and logout', () => {
  test('GET /user answers the user; without a valid bearer it is 401', async () => {
    const { email, session } = await newAccount()
    const response = await user(session.access_token)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      id: localUserId(email),
      email: email.toLowerCase(),
      identities: [],
    })
    const none = await app.fetch('/auth/v1/user', { headers: V2024 })
    expect(none.status).toBe(401)
    expect(((await none.json()) as { code: string }).code).toBe('no_authorization')
    const bad = await user('not.a.token')
    expect(bad.status).toBe(401)
    expect(((await bad.json()) as { code: string }).code).toBe('bad_jwt')
  })

  test('scope=local ends this session only: its tokens at once, its refresh token too', async () => {
    const { email, session } = await newAccount()
    const other = (await (await signIn(email, PASSWORD)).json()) as Session
    expect(await me(session.access_token)).toBe(200)
    const response = await logout(session.access_token, 'local')
    expect(response.status).toBe(204)
    expect(await me(session.access_token)).toBe(401)
    expect((await user(session.access_token)).status).toBe(401)
    expect((await refresh(session.refresh_token)).status).toBe(400)
    expect(await me(other.access_token)).toBe(200)
  })

  test('the hourly job removes long-ended sessions and long-spent refresh tokens, not live ones', async () => {
    const { email, session } = await newAccount()
    const live = (await (await signIn(email, PASSWORD)).json()) as Session
    const rotated = (await (await refresh(live.refresh_token)).json()) as Session
    expect((await logout(session.access_token, 'local')).status).toBe(204)
    const rows = () =>
      app.services.db.transaction((tx) =>
        tx.query<{ sessions: number; tokens: number }>(
          `select (select count(*)::int from auth.local_sessions s where s.user_id = $1) as sessions,
                  (select count(*)::int from auth.local_refresh_tokens r where r.user_id = $1) as tokens`,
          [session.user.id],
        ),
      )
    expect(await rows()).toEqual([{ sessions: 2, tokens: 3 }])
    await app.services.housekeeping.run()
    expect(await rows()).toEqual([{ sessions: 2, tokens: 3 }]) // nothing is old yet
    await app.services.db.transaction((tx) =>
      tx.query(
        `update auth.local_sessions set revoked_at = revoked_at - interval '31 days' where revoked_at is not null
            and user_id = $1;
         `,
        [session.user.id],
      ),
    )
    await app.services.db.transaction((tx) =>
      tx.query(
        `update auth.local_refresh_tokens set used_at = used_at - interval '31 days' where used_at is not null
            and user_id = $1`,
        [session.user.id],
      ),
    )
    await app.services.housekeeping.run()
    // The logged-out session went with its token; the live one keeps only its current token.
    expect(await rows()).toEqual([{ sessions: 1, tokens: 1 }])
    expect(await me(rotated.access_token)).toBe(200)
    expect((await refresh(rotated.refresh_token)).status).toBe(200)
  })

  test('POST /api/v1/auth/logout ends the session for refreshing too; a refresh token lives 30 days', async () => {
    const { session } = await newAccount()
    const out = await app.fetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: bearer(session.access_token),
    })
    expect(out.status).toBe(204)
    expect((await refresh(session.refresh_token)).status).toBe(400)
    const { session: aged } = await newAccount()
    await app.services.db.transaction((tx) =>
      tx.query(
        `update auth.local_refresh_tokens set created_at = now() - interval '30 days' where user_id = $1`,
        [aged.user.id],
      ),
    )
    expect((await refresh(aged.refresh_token)).status).toBe(400)
  })

  test('scope=global (the default) ends every session of the user', async () => {
    const { email, session } = await newAccount()
    const other = (await (await signIn(email, PASSWORD)).json()) as Session
    expect(await me(other.access_token)).toBe(200)
    const response = await app.fetch('/auth/v1/logout', {
      method: 'POST',
      headers: bearer(session.access_token),
    })
    expect(response.status).toBe(204)
    expect(await me(session.access_token)).toBe(401)
    expect(await me(other.access_token)).toBe(401)
    expect((await refresh(other.refresh_token)).status).toBe(400)
  })

  test('scope=others ends the other sessions and keeps this one', async () => {
    const { email, session } = await newAccount()
    const other = (await (await signIn(email, PASSWORD)).json()) as Session
    expect(await me(other.access_token)).toBe(200)
    expect((await logout(session.access_token, 'others')).status).toBe(204)
    expect(await me(session.access_token)).toBe(200)
    expect(await me(other.access_token)).toBe(401)
    expect((await refresh(session.refresh_token)).status).toBe(200)
  })
})

describe('deleting a local account (DELETE /api/v1/users/me)', () => {
  test('its password, sessions and refresh tokens go in the same transaction; none of them works after', async () => {
    const { email, session } = await newAccount()
    const other = (await (await signIn(email, PASSWORD)).json()) as Session
    const rotated = (await (await refresh(other.refresh_token)).json()) as Session
    const id = localUserId(email)
    const rows = () =>
      app.services.db.transaction((tx) =>
        tx.query<{ credentials: number; sessions: number; tokens: number; users: number }>(
          `select (select count(*)::int from auth.local_credentials where user_id = $1) as credentials,
                  (select count(*)::int from auth.local_sessions where user_id = $1) as sessions,
                  (select count(*)::int from auth.local_refresh_tokens where user_id = $1) as tokens,
                  (select count(*)::int from auth.users where id = $1) as users`,
          [id],
        ),
      )
    expect(await rows()).toEqual([{ credentials: 1, sessions: 2, tokens: 3, users: 1 }])
    expect(await me(rotated.access_token)).toBe(200)

    const deleted = await app.fetch('/api/v1/users/me', {
      method: 'DELETE',
      headers: bearer(session.access_token),
    })
    expect(deleted.status).toBe(204)
    expect(await rows()).toEqual([{ credentials: 0, sessions: 0, tokens: 0, users: 0 }])
    // Every token of every session is refused at once, on the API and on /auth/v1…
    expect(await me(session.access_token)).toBe(401)
    expect(await me(rotated.access_token)).toBe(401)
    expect((await user(rotated.access_token)).status).toBe(401)
    // …the refresh tokens are unknown, and the password is gone (the same answer as a wrong one).
    for (const token of [session.refresh_token, rotated.refresh_token]) {
      const response = await refresh(token)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { code: string }).code).toBe('refresh_token_not_found')
    }
    const signInAgain = await signIn(email, PASSWORD)
    expect(signInAgain.status).toBe(400)
    expect(await signInAgain.text()).toBe(
      '{"code":"invalid_credentials","message":"Invalid login credentials"}',
    )
  })

  test('a sign-in whose password check outlived the account opens no session, on the re-created account either', async () => {
    // A sign-in reads the stored hash, spends ~50 ms in argon2, then opens the session: the
    // account can be deleted — and signed up again under the same id — in between.
    const store = new LocalAccountStore(app.services.db)
    // A refresh token's hash as the service stores it (SHA-256, hex).
    const aHash = () => Bun.SHA256.hash(crypto.randomUUID(), 'hex')
    const { email, session } = await newAccount()
    const id = localUserId(email)
    const checked = await store.passwordHash(id)
    if (!checked) throw new Error('no stored hash')
    const remove = () =>
      app.fetch('/api/v1/users/me', { method: 'DELETE', headers: bearer(session.access_token) })
    expect((await remove()).status).toBe(204)
    // Deleted meanwhile: no session (before, a foreign-key violation: a 500).
    expect(await store.openSession(id, crypto.randomUUID(), aHash(), checked)).toBeNull()
    // Signed up again meanwhile, with another password: still none for the old password's check…
    expect((await signUp(email, 'another long password')).status).toBe(200)
    const late = crypto.randomUUID()
    expect(await store.openSession(id, late, aHash(), checked)).toBeNull()
    const sessions = (sid: string) =>
      app.services.db.transaction((tx) =>
        tx.query('select 1 from auth.local_sessions where id = $1', [sid]).then((rows) => rows.length),
      )
    expect(await sessions(late)).toBe(0)
    // …where opening it by user id alone, as before, gives the old password a session on the new account.
    const naive = crypto.randomUUID()
    await app.services.db.transaction((tx) =>
      tx.query('insert into auth.local_sessions (id, user_id) values ($1, $2)', [naive, id]),
    )
    expect(await sessions(naive)).toBe(1)
    // And a check against the hash that is stored now opens one.
    const current = await store.passwordHash(id)
    expect(await store.openSession(id, crypto.randomUUID(), aHash(), current ?? '')).not.toBeNull()
  })

  test('signing up again with the same e-mail at once: the new account works, the old tokens stay dead', async () => {
    // The same e-mail is the same local id, and the deletion's tombstone refuses every token
    // issued up to a minute after it (signers' clock skew): a new session's tokens are exempt.
    const { email, session: old } = await newAccount()
    const deleted = await app.fetch('/api/v1/users/me', {
      method: 'DELETE',
      headers: bearer(old.access_token),
    })
    expect(deleted.status).toBe(204)

    const again = await signUp(email)
    expect(again.status).toBe(200)
    const fresh = (await again.json()) as Session
    expect(fresh.user.id).toBe(old.user.id)
    expect(await me(fresh.access_token)).toBe(200)
    expect((await user(fresh.access_token)).status).toBe(200)
    const rotated = (await (await refresh(fresh.refresh_token)).json()) as Session
    expect(await me(rotated.access_token)).toBe(200)
    // The deleted account's token is still refused, although its user id exists again.
    expect(await me(old.access_token)).toBe(401)
    expect((await user(old.access_token)).status).toBe(401)
    // A logged-out session of the new account is refused as any logged-out session is.
    expect((await logout(rotated.access_token, 'local')).status).toBe(204)
    expect(await me(rotated.access_token)).toBe(401)
  })
})

describe('the OpenAPI document', () => {
  test('describes the four /auth/v1 endpoints (and still builds with them)', async () => {
    const response = await app.fetch('/openapi.json')
    expect(response.status).toBe(200)
    const doc = (await response.json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/auth/v1'))).toEqual([
      '/auth/v1/signup',
      '/auth/v1/token',
      '/auth/v1/user',
      '/auth/v1/logout',
    ])
  })
})

describe('CORS for the SPA on /auth/v1', () => {
  test('a preflight with the headers supabase-js sends is allowed, and the API-version header exposed', async () => {
    const preflight = await app.fetch('/auth/v1/token?grant_type=password', {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'apikey,authorization,content-type,x-client-info,x-supabase-api-version',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',')
    for (const header of [
      'apikey',
      'authorization',
      'content-type',
      'x-client-info',
      'x-supabase-api-version',
    ]) {
      expect(allowed).toContain(header)
    }
    const actual = await app.fetch('/auth/v1/token?grant_type=password', {
      method: 'POST',
      headers: { ...JSON_HEADERS, origin: ORIGIN },
      body: JSON.stringify({ email: freshEmail(), password: 'nope-nope' }),
    })
    expect(actual.status).toBe(400)
    expect(actual.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect((actual.headers.get('access-control-expose-headers') ?? '').toLowerCase()).toContain(
      'x-supabase-api-version',
    )
  })

  test('another origin gets no allow-origin', async () => {
    const preflight = await app.fetch('/auth/v1/signup', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('what is stored', () => {
  test('passwords only as argon2id, refresh tokens only as SHA-256 hashes, nothing in the log', async () => {
    const { email, session } = await newAccount()
    const rotated = (await (await refresh(session.refresh_token)).json()) as Session
    const id = localUserId(email)
    const rows = await app.services.db.transaction(async (tx) => ({
      credentials: await tx.query<Record<string, unknown>>(
        'select * from auth.local_credentials where user_id = $1',
        [id],
      ),
      sessions: await tx.query<Record<string, unknown>>(
        'select * from auth.local_sessions where user_id = $1',
        [id],
      ),
      tokens: await tx.query<Record<string, unknown>>(
        'select * from auth.local_refresh_tokens where user_id = $1 order by created_at',
        [id],
      ),
      users: await tx.query<Record<string, unknown>>('select * from auth.users where id = $1', [id]),
    }))
    expect(rows.credentials.length).toBe(1)
    const hash = String(rows.credentials[0]?.password_hash)
    expect(hash.startsWith('$argon2id$')).toBe(true)
    expect(hash).toContain(`m=${PASSWORD_HASH.memoryCost},t=${PASSWORD_HASH.timeCost}`)
    expect(await Bun.password.verify(PASSWORD, hash)).toBe(true)
    expect(rows.tokens.map((row) => row.token_hash)).toEqual([
      Bun.SHA256.hash(session.refresh_token, 'hex'),
      Bun.SHA256.hash(rotated.refresh_token, 'hex'),
    ])
    expect(rows.tokens[1]?.parent_hash).toBe(rows.tokens[0]?.token_hash)
    expect(rows.tokens[0]?.used_at).not.toBeNull()
    const everything = JSON.stringify(rows)
    for (const secret of [PASSWORD, session.refresh_token, rotated.refresh_token, session.access_token]) {
      expect(everything).not.toContain(secret)
    }
    const log = JSON.stringify(app.logs)
    for (const secret of [PASSWORD, session.refresh_token, rotated.refresh_token, session.access_token, id]) {
      expect(log).not.toContain(secret)
    }
  })

  test('the account tables are out of reach of the API roles', async () => {
    const rows = await app.services.db.transaction((tx) =>
      tx.query<{ role: string; table: string; allowed: boolean }>(
        `select r.role, t.tbl,
                has_table_privilege(r.role, 'auth.' || t.tbl, 'select, insert, update, delete') as allowed
           from unnest(array['anon', 'authenticated', 'service_role']) as r(role),
                unnest(array['local_credentials', 'local_sessions', 'local_refresh_tokens']) as t(tbl)`,
      ),
    )
    expect(rows.length).toBe(9)
    expect(rows.filter((row) => row.allowed)).toEqual([])
  })
})

describe('Supabase mode', () => {
  const fake = new FakeSupabaseAuth().start()
  afterAll(() => fake.stop())

  test('every /auth/v1 route is 404 and no account service exists', async () => {
    const supabase = await testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey })
    try {
      expect(supabase.services.localAccounts).toBeUndefined()
      const json = { 'content-type': 'application/json', ...V2024 }
      const body = JSON.stringify({ email: freshEmail(), password: PASSWORD, refresh_token: 'x' })
      const requests: [string, RequestInit][] = [
        ['/auth/v1/signup', { method: 'POST', headers: json, body }],
        ['/auth/v1/token?grant_type=password', { method: 'POST', headers: json, body }],
        ['/auth/v1/token?grant_type=refresh_token', { method: 'POST', headers: json, body }],
        ['/auth/v1/user', { headers: { authorization: 'Bearer x.y.z' } }],
        ['/auth/v1/logout', { method: 'POST', headers: { authorization: 'Bearer x.y.z' } }],
        [
          '/auth/v1/signup',
          { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } },
        ],
      ]
      for (const [path, init] of requests) {
        const response = await supabase.request(path, init)
        expect(`${init.method ?? 'GET'} ${path} ${response.status}`).toBe(
          `${init.method ?? 'GET'} ${path} 404`,
        )
      }
      expect(fake.calls.user + fake.calls.logout).toBe(0)
    } finally {
      await supabase.services.close()
    }
  })
  /** The shared database, recording every statement sent through it. */
  function recording(db: Database, statements: string[]): Database {
    const wrap = (tx: Tx): Tx => ({
      query: (sql, params) => {
        statements.push(sql)
        return tx.query(sql, params)
      },
      exec: (sql) => {
        statements.push(sql)
        return tx.exec(sql)
      },
    })
    return withRoles({
      kind: db.kind,
      transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
      close: db.close,
    })
  }

  /** What building the server sends about local accounts, while auth.users looks like Supabase's (or ours). */
  async function accountStatementsAtStart(env: Record<string, string>, supabaseUsers: boolean) {
    const { db } = await sharedDatabase()
    const comment = async (text: string) =>
      db.transaction((tx) => tx.exec(`comment on table auth.users is '${text}'`))
    const [ours] = await db.transaction((tx) =>
      tx.query<{ text: string }>(`select obj_description('auth.users'::regclass, 'pg_class') as text`),
    )
    if (supabaseUsers) await comment('Auth: Stores user login data within a secure schema.')
    const statements: string[] = []
    let outcome = 'started'
    try {
      const services = await buildContainer(testConfig(env), createLogger('silent'), {
        db: recording(db, statements),
        skipKnowledgeInit: true,
      }).catch((error: Error) => {
        outcome = error.name
        return undefined
      })
      await services?.close()
    } finally {
      if (supabaseUsers) await comment(String(ours?.text))
    }
    return {
      outcome,
      statements: statements.filter((sql) => /local_(credentials|sessions|refresh_tokens)/.test(sql)),
    }
  }

  test('over Supabase’s auth.users nothing creates or touches the account tables; over ours it does', async () => {
    const supabaseEnv = { SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey }
    expect(await accountStatementsAtStart(supabaseEnv, true)).toEqual({ outcome: 'started', statements: [] })
    // Local auth there is refused before any account SQL runs.
    expect(await accountStatementsAtStart(LOCAL_AUTH, true)).toEqual({
      outcome: 'ForeignAuthUsersError',
      statements: [],
    })
    // Supabase Auth over our own auth.users (plain Postgres) has no local accounts either…
    expect(await accountStatementsAtStart(supabaseEnv, false)).toEqual({ outcome: 'started', statements: [] })
    // …while local auth over our own runs the script (so the search above can find it).
    const local = await accountStatementsAtStart(LOCAL_AUTH, false)
    expect(local.outcome).toBe('started')
    expect(
      local.statements.some((sql) => sql.includes('create table if not exists auth.local_credentials')),
    ).toBe(true)
  })
})
