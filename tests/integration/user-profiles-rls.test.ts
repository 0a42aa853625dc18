import { beforeAll, describe, expect, test } from 'bun:test'
import { createAuthUser, DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database, JwtClaims } from '@/lib/db/database'

let db: Database
let alice: JwtClaims
let bob: JwtClaims

type Profile = { id: string; email: string; role: string; display_name: string | null }

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  const a = await createAuthUser(db)
  const b = await createAuthUser(db)
  alice = { sub: a.id, email: a.email }
  bob = { sub: b.id, email: b.email }
  // Profiles are created by the trusted server, never by the user.
  await db.asService((tx) =>
    tx.query('insert into public.user_profiles (id, email) values ($1, $2), ($3, $4)', [
      a.id,
      a.email,
      b.id,
      b.email,
    ]),
  )
}, DB_SETUP_TIMEOUT_MS)

describe('user_profiles row-level security', () => {
  test('a user sees only their own row, though the other row exists', async () => {
    const seenByAlice = await db.asUser(alice, (tx) =>
      tx.query<Profile>('select * from public.user_profiles'),
    )
    expect(seenByAlice.map((p) => p.id)).toEqual([alice.sub])
    const seenByService = await db.asService((tx) =>
      tx.query<Profile>('select id from public.user_profiles where id = $1', [bob.sub]),
    )
    expect(seenByService).toHaveLength(1)
  })

  test("a user cannot change another user's row", async () => {
    const changed = await db.asUser(alice, (tx) =>
      tx.query("update public.user_profiles set display_name = 'hacked' where id = $1 returning id", [
        bob.sub,
      ]),
    )
    expect(changed).toEqual([])
    const [row] = await db.asService((tx) =>
      tx.query<Profile>('select display_name from public.user_profiles where id = $1', [bob.sub]),
    )
    expect(row?.display_name).toBeNull()
  })

  test('a user can change their own display name', async () => {
    const [row] = await db.asUser(alice, (tx) =>
      tx.query<Profile>(
        "update public.user_profiles set display_name = 'Alice' where id = $1 returning display_name",
        [alice.sub],
      ),
    )
    expect(row?.display_name).toBe('Alice')
  })

  test('a user cannot raise their own role, by column or by claim', async () => {
    const attempt = db.asUser(alice, (tx) =>
      tx.query("update public.user_profiles set role = 'admin' where id = $1", [alice.sub]),
    )
    await expect(attempt).rejects.toThrow('permission denied')
    // Claims are server-made, but even a forged role claim does not lift the session role.
    const forged = db.asUser({ ...alice, role: 'service_role' }, (tx) =>
      tx.query("update public.user_profiles set role = 'admin' where id = $1", [alice.sub]),
    )
    await expect(forged).rejects.toThrow('permission denied')
    const [row] = await db.asService((tx) =>
      tx.query<Profile>('select role from public.user_profiles where id = $1', [alice.sub]),
    )
    expect(row?.role).toBe('user')
  })

  test('a user cannot insert or delete profiles', async () => {
    const other = await createAuthUser(db)
    await expect(
      db.asUser({ sub: other.id }, (tx) =>
        tx.query('insert into public.user_profiles (id, email) values ($1, $2)', [other.id, other.email]),
      ),
    ).rejects.toThrow('permission denied')
    await expect(
      db.asUser(alice, (tx) => tx.query('delete from public.user_profiles where id = $1', [alice.sub])),
    ).rejects.toThrow('permission denied')
  })

  test('the guard trigger blocks role changes even if a later grant widened the column', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.exec('grant update (role) on public.user_profiles to authenticated')
        await tx.query(
          `select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`,
          [JSON.stringify({ sub: alice.sub, role: 'authenticated' })],
        )
        await tx.query("update public.user_profiles set role = 'admin' where id = $1", [alice.sub])
      }),
    ).rejects.toThrow('role can only be changed by the service')
  })

  test('the service role can change a role', async () => {
    const [row] = await db.asService((tx) =>
      tx.query<Profile>("update public.user_profiles set role = 'admin' where id = $1 returning role", [
        bob.sub,
      ]),
    )
    expect(row?.role).toBe('admin')
  })

  test('user context does not leak out of its transaction', async () => {
    await db.asUser(alice, async () => {})
    const [row] = await db.transaction((tx) =>
      tx.query<{ uid: string | null; role: string }>('select auth.uid() as uid, current_user as role'),
    )
    expect(row?.uid).toBeNull()
    expect(row?.role).not.toBe('authenticated')
  })
})
