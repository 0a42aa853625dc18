import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createClient, isAuthApiError, type Session } from '@supabase/supabase-js'
import { LOCAL_AUTH } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { localUserId } from '@/lib/auth/local-tokens'

// The SPA's own client, unchanged, against a running server in local mode: what it sends and
// what it parses are @supabase/auth-js's, not ours.

let app: ServedApp

beforeAll(async () => {
  app = await servedApp(LOCAL_AUTH)
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await app.stop()
})

const client = (target: ServedApp = app) =>
  createClient(target.url, 'any-anon-key', { auth: { persistSession: false, autoRefreshToken: false } })

const apiMe = async (token: string, target: ServedApp = app) => {
  const response = await target.fetch('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })
  return {
    status: response.status,
    body: (await response.json()) as { user?: { id: string; email: string } },
  }
}

describe('@supabase/supabase-js against /auth/v1', () => {
  test('signUp → getUser → API → refreshSession → reuse refused → signOut refuses the token', async () => {
    const supabase = client()
    const email = `spa-${crypto.randomUUID()}@example.test`
    const password = 'a long enough password'

    const signUp = await supabase.auth.signUp({
      email,
      password,
      options: { data: { full_name: 'Grace Hopper' } },
    })
    expect(signUp.error).toBeNull()
    const first = signUp.data.session
    expect(first).not.toBeNull()
    if (!first) return
    expect(signUp.data.user?.id).toBe(localUserId(email))
    expect(first.expires_at).toBeGreaterThan(Date.now() / 1000)

    const got = await supabase.auth.getUser()
    expect(got.error).toBeNull()
    expect(got.data.user).toMatchObject({
      id: localUserId(email),
      email,
      user_metadata: { full_name: 'Grace Hopper' },
    })

    const me = await apiMe(first.access_token)
    expect(me.status).toBe(200)
    expect(me.body.user).toMatchObject({ id: localUserId(email), email })

    const refreshed = await supabase.auth.refreshSession()
    expect(refreshed.error).toBeNull()
    const second = refreshed.data.session
    expect(second?.refresh_token).toBeDefined()
    expect(second?.refresh_token).not.toBe(first.refresh_token)
    if (!second) return
    expect((await apiMe(second.access_token)).status).toBe(200)

    // The spent refresh token, presented again (by a second client, as a thief would): refused
    // with GoTrue's code, and per GoTrue the reuse ends the session — its tokens stop working.
    const thief = client()
    const reuse = await thief.auth.refreshSession({ refresh_token: first.refresh_token })
    expect(reuse.data.session).toBeNull()
    expect(isAuthApiError(reuse.error)).toBe(true)
    expect(reuse.error?.code).toBe('refresh_token_already_used')
    expect(reuse.error?.status).toBe(400)
    expect((await apiMe(first.access_token)).status).toBe(401)
    expect((await apiMe(second.access_token)).status).toBe(401)

    // A fresh sign-in, then signOut: that token is refused at once, on the API and on /auth/v1.
    const signIn = await supabase.auth.signInWithPassword({ email, password })
    expect(signIn.error).toBeNull()
    const third = signIn.data.session
    if (!third) throw new Error('no session from signInWithPassword')
    expect((await apiMe(third.access_token)).status).toBe(200)
    const signOut = await supabase.auth.signOut()
    expect(signOut.error).toBeNull()
    expect((await supabase.auth.getSession()).data.session).toBeNull()
    expect((await apiMe(third.access_token)).status).toBe(401)
    const after = await client().auth.getUser(third.access_token)
    expect(after.data.user).toBeNull()
    expect(after.error?.status).toBe(401)
    expect(isAuthApiError(after.error)).toBe(true)
  })

  test('auth-js reads our error codes: invalid_credentials, user_already_exists, weak_password', async () => {
    const supabase = client()
    const email = `spa-${crypto.randomUUID()}@example.test`
    expect((await supabase.auth.signUp({ email, password: 'first password' })).error).toBeNull()

    const taken = await client().auth.signUp({ email, password: 'second password' })
    expect(taken.error?.code).toBe('user_already_exists')
    expect(taken.error?.status).toBe(422)

    const weak = await client().auth.signUp({ email: `w-${email}`, password: 'short' })
    expect(weak.error?.code).toBe('weak_password')
    expect(weak.error?.name).toBe('AuthWeakPasswordError')
    expect((weak.error as { reasons?: string[] } | null)?.reasons).toEqual(['length'])

    const wrong = await client().auth.signInWithPassword({ email, password: 'not the password' })
    const unknown = await client().auth.signInWithPassword({ email: `nobody-${email}`, password: 'whatever' })
    for (const result of [wrong, unknown]) {
      expect(result.error?.code).toBe('invalid_credentials')
      expect(result.error?.status).toBe(400)
      expect(result.error?.message).toBe('Invalid login credentials')
    }
  })
})

describe('supabase-js auto-refresh against /auth/v1', () => {
  // 100 s: auth-js's ticker refreshes a session that expires within 3 ticks of 30 s, so its first
  // tick refreshes at once, while getSession (90 s margin) alone does not.
  let short: ServedApp
  beforeAll(async () => {
    short = await servedApp({ ...LOCAL_AUTH, LOCAL_ACCESS_TOKEN_TTL_SECONDS: '100' })
  }, DB_SETUP_TIMEOUT_MS)
  afterAll(() => short.stop())

  test('the auto-refresh ticker renews the session through a rotation; the spent refresh token is reuse', async () => {
    const supabase = createClient(short.url, 'any-anon-key', {
      auth: { persistSession: false, autoRefreshToken: true },
    })
    const email = `spa-${crypto.randomUUID()}@example.test`
    const signUp = await supabase.auth.signUp({ email, password: 'a long enough password' })
    expect(signUp.error).toBeNull()
    const first = signUp.data.session
    if (!first) throw new Error('no session from signUp')
    expect(first.expires_in).toBe(100)

    const refreshed = new Promise<Session>((resolve) => {
      const { data } = supabase.auth.onAuthStateChange((event, session) => {
        if (event !== 'TOKEN_REFRESHED' || !session) return
        data.subscription.unsubscribe()
        resolve(session)
      })
    })
    await supabase.auth.startAutoRefresh()
    const second = await refreshed
    await supabase.auth.stopAutoRefresh()

    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(second.user.id).toBe(localUserId(email))
    expect((await apiMe(second.access_token, short)).status).toBe(200)
    expect((await supabase.auth.getSession()).data.session?.refresh_token).toBe(second.refresh_token)
    // The ticker spent the sign-up's refresh token: presented again it is reuse, which ends the
    // session the client now holds.
    const reuse = await client(short).auth.refreshSession({ refresh_token: first.refresh_token })
    expect(reuse.error?.code).toBe('refresh_token_already_used')
    expect((await apiMe(second.access_token, short)).status).toBe(401)
  })
})
