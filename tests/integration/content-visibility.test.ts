import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi, expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { attempt, rolledBack } from '@tests/helpers/sql'

// Who sees what: anonymous, a signed-in user and an admin, each reading a draft, a published
// and an archived item, by list and by slug — through the API, and through SQL with the
// policies alone (RLS is the second lock behind the service's own status filter).

let t: TestApp
let admin: TestUser
let user: TestUser
/** A tag only this file's items carry, so the lists see nothing of other files. */
const TAG = `vis-${crypto.randomUUID().slice(0, 8)}`
const items: Record<'draft' | 'published' | 'archived', Json> = { draft: {}, published: {}, archived: {} }

const call = (who: TestUser | undefined, method: string, path: string, body?: unknown) =>
  callApi(t, who, method, path, body)
const ok = (who: TestUser | undefined, method: string, path: string, body?: unknown, status = 200) =>
  expectApi(t, who, method, path, body, status)

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  ;[admin, user] = await Promise.all([newUser({ admin: true }), newUser()])
  for (const status of ['draft', 'published', 'archived'] as const) {
    const { content } = await ok(
      admin,
      'POST',
      '/content',
      { title: `Visibility ${status} ${TAG}`, body: `# ${status}\n\nText.`, kind: 'blog', tags: [TAG] },
      201,
    )
    items[status] = content
    if (status !== 'draft') await ok(admin, 'POST', `/content/${content.id}/publish`)
    if (status === 'archived') await ok(admin, 'POST', `/content/${content.id}/archive`)
  }
}, DB_SETUP_TIMEOUT_MS)

const slugsIn = (page: Json) => page.data.map((item: Json) => item.slug).sort()

describe('the visibility matrix (API)', () => {
  const readers = { anonymous: () => undefined, user: () => user, admin: () => admin }

  for (const [name, who] of Object.entries(readers)) {
    test(`${name}: by slug, only published — unless admin`, async () => {
      const seen: Record<string, number> = {}
      for (const [status, item] of Object.entries(items)) {
        seen[status] = (await call(who(), 'GET', `/content/${item.slug}`)).status
      }
      const isAdmin = name === 'admin'
      expect(seen).toEqual({ draft: isAdmin ? 200 : 404, published: 200, archived: isAdmin ? 200 : 404 })
    })

    test(`${name}: the list shows published items only`, async () => {
      const page = await ok(who(), 'GET', `/content?tag=${TAG}`)
      expect(slugsIn(page)).toEqual([items.published.slug])
      expect(page.data[0]).not.toHaveProperty('body')
      expect(page.data[0]).toMatchObject({ status: 'published', tags: [TAG], kind: 'blog' })
    })
  }

  test('a 404 for a draft looks exactly like a missing slug', async () => {
    const draft = await call(user, 'GET', `/content/${items.draft.slug}`)
    const missing = await call(user, 'GET', `/content/no-such-${TAG}`)
    expect(draft.status).toBe(404)
    expect({ ...draft.body.error, request_id: 'x' }).toEqual({ ...missing.body.error, request_id: 'x' })
  })

  test('an admin lists drafts and archived items by asking for the status; others cannot', async () => {
    expect(slugsIn(await ok(admin, 'GET', `/content?tag=${TAG}&status=draft`))).toEqual([items.draft.slug])
    expect(slugsIn(await ok(admin, 'GET', `/content?tag=${TAG}&status=archived`))).toEqual([
      items.archived.slug,
    ])
    expect(slugsIn(await ok(admin, 'GET', `/content?tag=${TAG}&status=published`))).toEqual([
      items.published.slug,
    ])
    expect((await call(user, 'GET', `/content?tag=${TAG}&status=draft`)).status).toBe(403)
    expect((await call(undefined, 'GET', `/content?tag=${TAG}&status=archived`)).status).toBe(401)
    // Asking for what everyone may see is fine for everyone.
    expect(slugsIn(await ok(user, 'GET', `/content?tag=${TAG}&status=published`))).toEqual([
      items.published.slug,
    ])
  })

  test('the slug route reads the full item, body included', async () => {
    const { content } = await ok(undefined, 'GET', `/content/${items.published.slug}`)
    expect(content).toMatchObject({
      id: items.published.id,
      body: '# published\n\nText.',
      status: 'published',
    })
    expect(content.author_id).toBe(admin.id)
  })

  test('the seeded pages are published on a fresh database', async () => {
    for (const slug of ['what-is-pilar', 'the-two-modes', 'reading-team-results']) {
      const { content } = await ok(undefined, 'GET', `/content/${slug}`)
      expect({ slug, status: content.status, author: content.author_id }).toEqual({
        slug,
        status: 'published',
        author: null,
      })
      expect(content.body.length).toBeGreaterThan(500)
    }
    const modes = (await ok(undefined, 'GET', '/content/the-two-modes')).content
    expect(modes.pillar_ids).toHaveLength(10)
  })
})

describe('row-level security alone (SQL, rolled back)', () => {
  const statuses = (rows: unknown) =>
    Array.isArray(rows) ? (rows as { status: string }[]).map((r) => r.status).sort() : rows
  const mine = () => [items.draft.id, items.published.id, items.archived.id]
  const select = 'select status from public.content where id = any($1::uuid[])'

  test('anon and a user read published rows only — even without the service’s status filter', async () => {
    const asAnon = await rolledBack(
      (fn) => t.services.db.transaction(fn),
      async (tx) => {
        await tx.query(`select set_config('role', 'anon', true)`)
        return attempt(tx, select, [mine()])
      },
    )
    expect(statuses(asAnon)).toEqual(['published'])
    const asUser = await t.services.db.asUser({ sub: user.id, email: user.email }, (tx) =>
      attempt(tx, select, [mine()]),
    )
    expect(statuses(asUser)).toEqual(['published'])
  })

  test('a user can neither write nor see their write land; an admin (by JWT role) reads and writes all', async () => {
    const claims = { sub: user.id, email: user.email }
    const outcome = await rolledBack(
      (fn) => t.services.db.asUser(claims, fn),
      async (tx) => ({
        insert: await attempt(
          tx,
          `insert into public.content (slug, kind, title) values ('planted-${TAG}', 'page', 'Planted')`,
        ),
        update: await attempt(
          tx,
          `update public.content set title = 'Defaced' where id = any($1::uuid[]) returning id`,
          [mine()],
        ),
        delete: await attempt(tx, 'delete from public.content where id = any($1::uuid[]) returning id', [
          mine(),
        ]),
      }),
    )
    // The insert fails the policy (42501); update and delete reach no row (the published one is
    // visible, but no write policy lets a non-admin touch it).
    expect(outcome).toEqual({ insert: '42501', update: [], delete: [] })

    const adminClaims = { sub: admin.id, email: admin.email, app_metadata: { role: 'admin' } }
    const asAdmin = await rolledBack(
      (fn) => t.services.db.asUser(adminClaims, fn),
      async (tx) => ({
        read: statuses(await attempt(tx, select, [mine()])),
        update: await attempt(
          tx,
          `update public.content set title = 'Edited' where id = any($1::uuid[]) returning id`,
          [mine()],
        ),
      }),
    )
    expect(asAdmin.read).toEqual(['archived', 'draft', 'published'])
    expect(asAdmin.update).toHaveLength(3)
  })

  test('an admin by profile role (user_profiles.role) passes public.is_admin() too; a user_metadata role does not', async () => {
    const other = await newUser()
    await ok(other, 'GET', '/users/me') // creates the profile row
    const claims = { sub: other.id, email: other.email, user_metadata: { role: 'admin' } }
    const before = await t.services.db.asUser(claims, (tx) =>
      tx.query<{ a: boolean }>('select public.is_admin() as a'),
    )
    expect(before).toEqual([{ a: false }])
    const after = await rolledBack(
      (fn) => t.services.db.transaction(fn),
      async (tx) => {
        await tx.query(`update public.user_profiles set role = 'admin' where id = $1`, [other.id])
        await tx.query(
          `select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`,
          [JSON.stringify({ ...claims, role: 'authenticated' })],
        )
        return statuses(await attempt(tx, select, [mine()]))
      },
    )
    expect(after).toEqual(['archived', 'draft', 'published'])
  })
})
