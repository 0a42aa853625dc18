import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { attempt, rolledBack } from '@tests/helpers/sql'
import type { JwtClaims } from '@/lib/db/database'
import { defaultDisplayName } from '@/services/auth'

// Profiles: created on first use, edited through a strict schema, and guarded in SQL by column
// grants, the owner-only policies and the role trigger — each of which is tried on its own.

let t: TestApp

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
}, DB_SETUP_TIMEOUT_MS)

const call = (user: TestUser, method: string, path: string, body?: unknown) =>
  callApi(t, user, method, path, body)

/** The stored row, as the table owner reads it (no RLS, no API). */
async function row(id: string) {
  const [found] = await t.services.db.transaction((tx) =>
    tx.query('select * from public.user_profiles where id = $1', [id]),
  )
  return found
}

const claimsOf = (user: TestUser): JwtClaims => ({ sub: user.id, email: user.email })

describe('GET /users/me', () => {
  test('created on first use, named after the e-mail’s local part, with the contract’s fields', async () => {
    const user = await newUser()
    const { status, body } = await call(user, 'GET', '/users/me')
    expect(status).toBe(200)
    expect(Object.keys(body.profile).sort()).toEqual(
      [
        'id',
        'email',
        'display_name',
        'bio',
        'avatar_url',
        'position',
        'goal',
        'preferences',
        'role',
        'leaderboard_opt_in',
        'created_at',
        'updated_at',
      ].sort(),
    )
    expect(body.profile).toMatchObject({
      id: user.id,
      email: user.email,
      display_name: user.email.split('@')[0],
      bio: null,
      avatar_url: null,
      preferences: {},
      role: 'user',
      leaderboard_opt_in: false,
    })
    expect((await row(user.id))?.last_seen_at).toBeInstanceOf(Date)
  })

  test('a profile row that went missing is made again', async () => {
    const user = await newUser()
    expect((await call(user, 'GET', '/users/me')).status).toBe(200)
    await t.services.db.asService((tx) =>
      tx.query('delete from public.user_profiles where id = $1', [user.id]),
    )
    const again = await call(user, 'GET', '/users/me')
    expect(again.status).toBe(200)
    expect(again.body.profile.id).toBe(user.id)
  })

  test('display name from user_metadata.full_name: cleaned, cut to 80 characters; else the e-mail', () => {
    const claims = (meta: unknown) => ({ sub: 'x', user_metadata: meta })
    expect(
      defaultDisplayName({ email: 'ada@x.test', claims: claims({ full_name: '  Ada Lovelace ' }) }),
    ).toBe('Ada Lovelace')
    const long = `${'é'.repeat(79)}😀😀`
    expect(defaultDisplayName({ email: 'ada@x.test', claims: claims({ full_name: long }) })).toBe(
      `${'é'.repeat(79)}😀`,
    )
    expect(defaultDisplayName({ email: 'ada@x.test', claims: claims({ full_name: 'A\u0000da' }) })).toBe(
      'Ada',
    )
    expect(defaultDisplayName({ email: 'ada@x.test', claims: claims({ full_name: ' ' }) })).toBe('ada')
    expect(defaultDisplayName({ email: 'ada@x.test', claims: claims({ full_name: 42 }) })).toBe('ada')
    expect(defaultDisplayName({ email: undefined, claims: claims(undefined) })).toBeNull()
  })
})

describe('PATCH /users/me', () => {
  test('every editable field, then read back; updated_at moves', async () => {
    const user = await newUser()
    const before = (await call(user, 'GET', '/users/me')).body.profile
    const patch = {
      display_name: 'Ada',
      bio: 'Engineer.',
      avatar_url: 'https://cdn.example.com/ada.png',
      position: 'Team lead',
      goal: 'Better retros',
      preferences: { theme: 'dark', nested: { list: [1, 2, 3] } },
      leaderboard_opt_in: true,
    }
    const { status, body } = await call(user, 'PATCH', '/users/me', patch)
    expect(status).toBe(200)
    expect(body.profile).toMatchObject(patch)
    expect(body.profile.updated_at > before.updated_at).toBe(true)
    expect((await call(user, 'GET', '/users/me')).body.profile).toEqual(body.profile)
    // Nullable fields clear; an empty body changes nothing.
    const cleared = await call(user, 'PATCH', '/users/me', { bio: null, avatar_url: null })
    expect(cleared.body.profile).toMatchObject({ bio: null, avatar_url: null, display_name: 'Ada' })
    expect((await call(user, 'PATCH', '/users/me', {})).body.profile).toEqual(cleared.body.profile)
  })

  const refused: [string, Record<string, unknown>, string][] = [
    ['role', { role: 'admin' }, 'body'],
    ['email', { email: 'other@example.test' }, 'body'],
    ['id', { id: crypto.randomUUID() }, 'body'],
    ['an unknown key', { display_name: 'Ok', favourite_colour: 'red' }, 'body'],
    ['a javascript: avatar', { avatar_url: 'javascript:alert(1)' }, 'body.avatar_url'],
    ['an http: avatar', { avatar_url: 'http://example.com/a.png' }, 'body.avatar_url'],
    ['a data: avatar', { avatar_url: 'data:image/png;base64,AAAA' }, 'body.avatar_url'],
    ['an 81-character display name', { display_name: 'x'.repeat(81) }, 'body.display_name'],
    ['an empty display name', { display_name: '  ' }, 'body.display_name'],
    ['NUL in the bio', { bio: 'a\u0000b' }, 'body.bio'],
    ['a 2001-character bio', { bio: 'x'.repeat(2_001) }, 'body.bio'],
    ['a 121-character position', { position: 'x'.repeat(121) }, 'body.position'],
    ['a 501-character goal', { goal: 'x'.repeat(501) }, 'body.goal'],
    ['preferences as an array', { preferences: [1, 2] }, 'body.preferences'],
    ['preferences over 8 KiB', { preferences: { blob: 'x'.repeat(8_200) } }, 'body.preferences'],
    ['NUL inside preferences', { preferences: { a: { b: 'x\u0000' } } }, 'body.preferences'],
    ['a non-boolean opt-in', { leaderboard_opt_in: 'yes' }, 'body.leaderboard_opt_in'],
  ]
  for (const [name, body, field] of refused) {
    test(`${name} → 400 VALIDATION_ERROR naming ${field}, and nothing changed`, async () => {
      const user = await newUser()
      expect((await call(user, 'PATCH', '/users/me', { display_name: 'Before' })).status).toBe(200)
      const before = await row(user.id)
      const response = await call(user, 'PATCH', '/users/me', body)
      expect(response.status).toBe(400)
      expect(response.body.error.code).toBe('VALIDATION_ERROR')
      expect(response.body.error.details.map((d: { field: string }) => d.field)).toContain(field)
      expect(await row(user.id)).toEqual(before)
    })
  }

  test('8 KiB of preferences that jsonb writes out 1.5× longer still store (the column’s backstop is 16 KiB)', async () => {
    const user = await newUser()
    // {"a":[0,0,…]} is at most 8,192 bytes as JSON; jsonb's text is "[0, 0, …]".
    const preferences = { a: Array.from({ length: 4_090 }, () => 0) }
    expect(JSON.stringify(preferences).length).toBeLessThanOrEqual(8_192)
    const response = await call(user, 'PATCH', '/users/me', { preferences })
    expect(response.status).toBe(200)
    expect(response.body.profile.preferences).toEqual(preferences)
  })
})

describe('profiles in SQL', () => {
  let alice: TestUser
  let bob: TestUser
  beforeAll(async () => {
    ;[alice, bob] = [await newUser(), await newUser()]
    await call(alice, 'GET', '/users/me')
    await call(bob, 'PATCH', '/users/me', { bio: 'Bob’s own words' })
  })

  test('as A (RLS), B’s profile can be neither read nor changed', async () => {
    const before = await row(bob.id)
    const outcome = await rolledBack(
      (fn) => t.services.db.asUser(claimsOf(alice), fn),
      async (tx) => ({
        read: await attempt(tx, 'select * from public.user_profiles where id = $1', [bob.id]),
        update: await attempt(
          tx,
          `update public.user_profiles set bio = 'hacked' where id = $1 returning id`,
          [bob.id],
        ),
        updateAll: await attempt(tx, `update public.user_profiles set preferences = '{"x":1}'`),
        delete: await attempt(tx, 'delete from public.user_profiles where id = $1', [bob.id]),
        own: await attempt(tx, 'select id from public.user_profiles'),
      }),
    )
    expect(outcome).toEqual({ read: [], update: [], updateAll: [], delete: '42501', own: [{ id: alice.id }] })
    expect(await row(bob.id)).toEqual(before)
  })

  test('users may UPDATE exactly the editable columns', async () => {
    const granted = await t.services.db.transaction((tx) =>
      tx.query<{ column_name: string }>(
        `select column_name from information_schema.column_privileges
          where table_schema = 'public' and table_name = 'user_profiles'
            and grantee = 'authenticated' and privilege_type = 'UPDATE' order by 1`,
      ),
    )
    expect(granted.map((g) => g.column_name)).toEqual(
      ['avatar_url', 'bio', 'display_name', 'goal', 'leaderboard_opt_in', 'position', 'preferences'].sort(),
    )
    for (const assignment of [
      `role = 'admin'`,
      `email = 'x@y.test'`,
      'last_seen_at = now()',
      'created_at = now()',
    ]) {
      const outcome = await rolledBack(
        (fn) => t.services.db.asUser(claimsOf(alice), fn),
        (tx) => attempt(tx, `update public.user_profiles set ${assignment} where id = $1`, [alice.id]),
      )
      expect({ assignment, outcome }).toEqual({ assignment, outcome: '42501' })
    }
  })

  test('the role guard holds even with a widened grant', async () => {
    const outcome = await rolledBack(
      (fn) => t.services.db.transaction(fn),
      async (tx) => {
        await tx.exec('grant update (role) on public.user_profiles to authenticated')
        await tx.query(
          `select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`,
          [JSON.stringify({ sub: alice.id, role: 'authenticated' })],
        )
        return attempt(tx, `update public.user_profiles set role = 'admin' where id = $1`, [alice.id])
      },
    )
    expect(outcome).toBe('42501')
    expect((await row(alice.id))?.role).toBe('user')
  })

  test('the columns’ own checks refuse what the API would (second lock), even for the service', async () => {
    for (const [assignment, state] of [
      [`avatar_url = 'javascript:alert(1)'`, '23514'],
      [`avatar_url = 'http://example.com/a.png'`, '23514'],
      [`preferences = '[1]'`, '23514'],
      [`preferences = jsonb_build_object('x', repeat('y', 17000))`, '23514'],
      [`bio = repeat('x', 2001)`, '23514'],
    ] as const) {
      const outcome = await rolledBack(
        (fn) => t.services.db.asService(fn),
        (tx) => attempt(tx, `update public.user_profiles set ${assignment} where id = $1`, [alice.id]),
      )
      expect({ assignment, outcome }).toEqual({ assignment, outcome: state })
    }
  })

  test('last_seen_at moving is not an edit: updated_at stays', async () => {
    const before = await row(alice.id)
    await t.services.db.asService((tx) =>
      tx.query(`update public.user_profiles set last_seen_at = now() + interval '1 minute' where id = $1`, [
        alice.id,
      ]),
    )
    const after = await row(alice.id)
    expect(after?.updated_at).toEqual(before?.updated_at)
    expect(after?.last_seen_at).not.toEqual(before?.last_seen_at)
  })
})
