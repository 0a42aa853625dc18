import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { otherAlgorithmToken, signToken, unsignedToken } from '@tests/fakes/tokens'
import { type TestApp, testApp } from '@tests/helpers/app'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { SECRET_FILE } from '@/lib/auth/local-secret'
import { localUserId, signLocalToken } from '@/lib/auth/local-tokens'
import type { ErrorBody } from '@/lib/errors/api-error'
import { optionalAuth } from '@/lib/http/auth'

const SECRET = 'local-test-secret-0123456789-abcdefghij'
const METRICS_TOKEN = 'metrics-token-for-tests-0001'
let t: TestApp
let userToken: string
let adminToken: string
const dataDir = mkdtempSync(join(tmpdir(), 'pilar-auth-local-'))

beforeAll(async () => {
  t = await testApp({ LOCAL_JWT_SECRET: SECRET, METRICS_TOKEN })
  userToken = await signLocalToken(SECRET, {
    email: `user-${crypto.randomUUID()}@example.test`,
    ttlSeconds: 600,
  })
  adminToken = await signLocalToken(SECRET, {
    email: `admin-${crypto.randomUUID()}@example.test`,
    admin: true,
    ttlSeconds: 600,
  })
}, DB_SETUP_TIMEOUT_MS)

afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const get = (app: TestApp, path: string, token?: string) =>
  app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {})

const post = (app: TestApp, path: string, token: string, body?: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

async function codeOf(response: Response) {
  return ((await response.json()) as ErrorBody).error.code
}

describe('local mode: which tokens pass', () => {
  test('a token from signLocalToken (what `bun run token` prints) → 200', async () => {
    const email = `cli-${crypto.randomUUID()}@example.test`
    const token = await signLocalToken(SECRET, { email, ttlSeconds: 60 })
    const response = await get(t, '/api/v1/auth/me', token)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ user: { id: localUserId(email), email, role: 'user' } })
  })

  const refused: [string, () => Promise<string>][] = [
    ['expired', () => signToken(SECRET, { expiresIn: -1 })],
    ['not yet valid', () => signToken(SECRET, { notBeforeIn: 600 })],
    ['forged signature', () => signToken('a-different-secret-that-is-long-enough')],
    ['alg none', async () => unsignedToken()],
    ['HS512 instead of HS256', () => otherAlgorithmToken(SECRET)],
    ['wrong audience', () => signToken(SECRET, { audience: 'anon' })],
    ['empty subject', () => signToken(SECRET, { sub: ' ' })],
  ]
  for (const [name, make] of refused) {
    test(`${name} → 401`, async () => {
      const response = await get(t, '/api/v1/auth/me', await make())
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
      expect(await codeOf(response)).toBe('UNAUTHORIZED')
    })
  }

  test('user_metadata cannot make an admin; app_metadata and user_profiles can', async () => {
    const selfMade = await signToken(SECRET, { userMetadataRole: 'admin' })
    expect(await (await get(t, '/api/v1/auth/me', selfMade)).json()).toMatchObject({ user: { role: 'user' } })
    expect(await (await get(t, '/api/v1/auth/me', adminToken)).json()).toMatchObject({
      user: { role: 'admin' },
    })

    const sub = crypto.randomUUID()
    const promoted = await signToken(SECRET, { sub })
    await get(t, '/api/v1/auth/me', promoted) // creates the profile
    await t.services.db.asService((tx) =>
      tx.query("update public.user_profiles set role = 'admin' where id = $1", [sub]),
    )
    t.services.auth.invalidate(sub) // role changes take effect at the next cache fill
    expect(await (await get(t, '/api/v1/auth/me', promoted)).json()).toMatchObject({
      user: { role: 'admin' },
    })
  })
})

describe('local mode: logout', () => {
  test('the same token is refused right after, and by a fresh instance on the same database', async () => {
    const token = await signLocalToken(SECRET, {
      email: `bye-${crypto.randomUUID()}@example.test`,
      ttlSeconds: 600,
    })
    expect((await get(t, '/api/v1/auth/me', token)).status).toBe(200)
    expect((await post(t, '/api/v1/auth/logout', token)).status).toBe(204)
    expect((await get(t, '/api/v1/auth/me', token)).status).toBe(401)
    const fresh = await testApp({ LOCAL_JWT_SECRET: SECRET })
    expect((await get(fresh, '/api/v1/auth/me', token)).status).toBe(401)
  })

  test('another session of the same user keeps working', async () => {
    const email = `two-${crypto.randomUUID()}@example.test`
    const first = await signLocalToken(SECRET, { email, ttlSeconds: 600 })
    const second = await signLocalToken(SECRET, { email, ttlSeconds: 600 })
    expect((await post(t, '/api/v1/auth/logout', first)).status).toBe(204)
    expect((await get(t, '/api/v1/auth/me', second)).status).toBe(200)
  })
})

describe('admin routes', () => {
  test('cache-stats: anonymous → 401, user → 403, admin → 200, METRICS_TOKEN → 200', async () => {
    expect((await get(t, '/api/v1/auth/cache-stats')).status).toBe(401)
    const asUser = await get(t, '/api/v1/auth/cache-stats', userToken)
    expect(asUser.status).toBe(403)
    expect(await codeOf(asUser)).toBe('FORBIDDEN')
    const asAdmin = await get(t, '/api/v1/auth/cache-stats', adminToken)
    expect(asAdmin.status).toBe(200)
    const stats = (await asAdmin.json()) as Record<string, number>
    expect(Object.keys(stats).sort()).toEqual(
      [
        'size',
        'max_entries',
        'ttl_ms',
        'hits',
        'misses',
        'hit_rate',
        'negative_hits',
        'evictions',
        'deduplicated',
        'upstream_calls',
        'upstream_errors',
        'upstream_p50_ms',
        'upstream_p99_ms',
      ].sort(),
    )
    expect(stats.max_entries).toBe(10_000)
    expect(stats.hits).toBeGreaterThan(0)
    expect((await get(t, '/api/v1/auth/cache-stats', METRICS_TOKEN)).status).toBe(200)
    expect((await get(t, '/api/v1/auth/cache-stats', 'metrics-token-for-tests-0002')).status).toBe(401)
  })

  test('invalidate-cache: user → 403; admin evicts one user or everyone; bad bodies → 400', async () => {
    expect((await post(t, '/api/v1/auth/invalidate-cache', userToken)).status).toBe(403)
    const me = (await (await get(t, '/api/v1/auth/me', userToken)).json()) as { user: { id: string } }
    const one = await post(t, '/api/v1/auth/invalidate-cache', adminToken, { user_id: me.user.id })
    expect(await one.json()).toEqual({ evicted: 1 })
    const badId = await post(t, '/api/v1/auth/invalidate-cache', adminToken, { user_id: 'nope' })
    expect(badId.status).toBe(400)
    expect(await codeOf(badId)).toBe('VALIDATION_ERROR')
    const extra = await post(t, '/api/v1/auth/invalidate-cache', adminToken, { everyone: true })
    expect(extra.status).toBe(400)
    const all = (await (await post(t, '/api/v1/auth/invalidate-cache', adminToken)).json()) as {
      evicted: number
    }
    expect(all.evicted).toBeGreaterThan(0)
    expect(t.services.auth.counters().size).toBe(0)
  })

  test('/ready names the auth mode', async () => {
    expect(await (await t.request('/ready')).json()).toMatchObject({
      checks: { auth: { status: 'ok', mode: 'local' } },
    })
  })
})

describe('`bun run token`', () => {
  const run = (args: string[], env: Record<string, string>) =>
    Bun.spawn(['bun', 'backend/src/cli/token.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdout: 'pipe',
      stderr: 'pipe',
    })

  test('prints a token the server accepts, using the secret it keeps under DATA_DIR (mode 600)', async () => {
    const child = run(['--email', 'cli@example.test', '--admin', '--ttl', '5m'], { DATA_DIR: dataDir })
    expect(await child.exited).toBe(0)
    const token = (await new Response(child.stdout).text()).trim()
    expect(statSync(join(dataDir, SECRET_FILE)).mode & 0o777).toBe(0o600)
    const server = await testApp({ DATA_DIR: dataDir })
    const response = await get(server, '/api/v1/auth/me', token)
    expect(await response.json()).toEqual({
      user: { id: localUserId('cli@example.test'), email: 'cli@example.test', role: 'admin' },
    })
  })

  test('refuses in Supabase mode and on bad arguments, with a message', async () => {
    const supabase = run(['--email', 'a@example.test'], {
      SUPABASE_URL: 'https://example.supabase.co',
      SUPABASE_ANON_KEY: 'anon',
    })
    expect(await supabase.exited).toBe(1)
    expect(await new Response(supabase.stderr).text()).toContain('Supabase Auth')
    const badEmail = run(['--email', 'nobody'], { DATA_DIR: dataDir })
    expect(await badEmail.exited).toBe(1)
    expect(await new Response(badEmail.stderr).text()).toContain('--email must be an email address')
    const badTtl = run(['--email', 'a@example.test', '--ttl', '90y'], { DATA_DIR: dataDir })
    expect(await badTtl.exited).toBe(1)
  })
})

test('a validly signed token whose subject is not a UUID → 401, not a database error', async () => {
  const response = await get(t, '/api/v1/auth/me', await signToken(SECRET, { sub: 'not-a-uuid' }))
  expect(response.status).toBe(401)
})

test('optionalAuth: anonymous passes, a valid token names the user, a bad token is a 401 (not anonymous)', async () => {
  const app = await testApp({ LOCAL_JWT_SECRET: SECRET })
  app.app.get('/api/v1/test/whoami', optionalAuth(), (c) => c.json({ user: c.get('user')?.id ?? null }))
  expect(await (await get(app, '/api/v1/test/whoami')).json()).toEqual({ user: null })
  const me = (await (await get(app, '/api/v1/auth/me', userToken)).json()) as { user: { id: string } }
  expect(await (await get(app, '/api/v1/test/whoami', userToken)).json()).toEqual({ user: me.user.id })
  const forged = await signToken('a-different-secret-that-is-long-enough')
  expect((await get(app, '/api/v1/test/whoami', forged)).status).toBe(401)
})
