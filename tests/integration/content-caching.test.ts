import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { RawConnection, requestHead } from '@tests/helpers/raw-http'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { entityTags } from '@/routes/content/etag'

// Conditional GETs of /content/:slug: a strong ETag from the stored row, public caching of
// published items only, 304 with no body — in process and over a real socket.

let t: TestApp
let served: ServedApp
let admin: TestUser
const RUN = crypto.randomUUID().slice(0, 8)

const ok = (who: TestUser | undefined, method: string, path: string, body?: unknown, status = 200) =>
  expectApi(t, who, method, path, body, status)
const get = (slug: string, headers: Record<string, string> = {}) =>
  t.request(`/api/v1/content/${slug}`, { headers })

async function published(name: string): Promise<Json> {
  const { content } = await ok(
    admin,
    'POST',
    '/content',
    { title: `Caching ${name} ${RUN}`, body: 'Cached text.', kind: 'resource' },
    201,
  )
  return (await ok(admin, 'POST', `/content/${content.id}/publish`)).content
}

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  served = await servedApp(LOCAL_AUTH)
  admin = await newUser({ admin: true })
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await served?.stop()
})

describe('in process', () => {
  test('a published item: strong ETag, public for 60 s; If-None-Match with it → 304, empty body, same headers', async () => {
    const item = await published('first')
    const first = await get(item.slug)
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    expect(first.headers.get('cache-control')).toBe('public, max-age=60')
    // Both: the answer depends on the token and (CORS) on the Origin; neither may drop the other.
    expect(first.headers.get('vary')).toBe('Origin, Authorization')
    expect((await first.json()).content.id).toBe(item.id)

    const again = await get(item.slug, { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect(again.headers.get('etag')).toBe(etag)
    expect(again.headers.get('cache-control')).toBe('public, max-age=60')
    // The same for a signed-in reader: the tag is the row's, not the reader's.
    const user = await newUser()
    expect((await get(item.slug, { ...user.headers, 'if-none-match': etag })).status).toBe(304)
  })

  test('If-None-Match forms: a list, a weak tag, *, and tags that do not match', async () => {
    const item = await published('forms')
    const etag = (await get(item.slug)).headers.get('etag') ?? ''
    const statusWith = async (value: string) => (await get(item.slug, { 'if-none-match': value })).status
    expect(await statusWith(`"old", ${etag}`)).toBe(304)
    expect(await statusWith(`W/${etag}`)).toBe(304)
    expect(await statusWith('*')).toBe(304)
    expect(await statusWith('"something-else"')).toBe(200)
    expect(await statusWith(etag.slice(1, -1))).toBe(200) // unquoted: not a tag
    expect(await statusWith('')).toBe(200)
    // Not the other item's tag either.
    const other = await published('other')
    expect(await statusWith((await get(other.slug)).headers.get('etag') ?? '')).toBe(200)
  })

  test('after an edit the ETag changes and the old one gets a 200 with the new text; a no-op edit keeps it', async () => {
    const item = await published('edited')
    const before = (await get(item.slug)).headers.get('etag') ?? ''
    // A field sent with the value it has is no change: the tag stays, and caches stay valid.
    await ok(admin, 'PATCH', `/content/${item.id}`, { body: 'Cached text.' })
    expect((await get(item.slug, { 'if-none-match': before })).status).toBe(304)

    await ok(admin, 'PATCH', `/content/${item.id}`, { body: 'New text.' })
    const after = await get(item.slug, { 'if-none-match': before })
    expect(after.status).toBe(200)
    expect((await after.json()).content.body).toBe('New text.')
    const next = after.headers.get('etag') ?? ''
    expect(next).not.toBe(before)
    expect((await get(item.slug, { 'if-none-match': next })).status).toBe(304)
  })

  test('archived: the old tag gets a 404, not a 304; an admin reads it privately, never stored', async () => {
    const item = await published('archived')
    const tag = (await get(item.slug)).headers.get('etag') ?? ''
    await ok(admin, 'POST', `/content/${item.id}/archive`)
    const anonymous = await get(item.slug, { 'if-none-match': tag })
    expect(anonymous.status).toBe(404)
    // Not kept by a cache: once the item is published again, readers must see it.
    expect(anonymous.headers.get('cache-control')).toBe('no-store')
    expect(anonymous.headers.get('vary')).toContain('Authorization')

    const asAdmin = await get(item.slug, admin.headers)
    expect(asAdmin.status).toBe(200)
    expect(asAdmin.headers.get('cache-control')).toBe('private, no-store')
    const adminTag = asAdmin.headers.get('etag') ?? ''
    expect(adminTag).not.toBe(tag) // archiving is a change too
    const conditional = await get(item.slug, { ...admin.headers, 'if-none-match': adminTag })
    expect([conditional.status, conditional.headers.get('cache-control')]).toEqual([304, 'private, no-store'])
  })

  test('lists: the published one may be cached; an admin’s drafts or archive never go to a shared cache', async () => {
    const pub = await t.request('/api/v1/content?limit=1')
    expect(pub.headers.get('cache-control')).toBe('public, max-age=60')
    const drafts = await t.request('/api/v1/content?status=draft&limit=1', { headers: admin.headers })
    expect(drafts.status).toBe(200)
    expect(drafts.headers.get('cache-control')).toBe('private, no-store')
    expect(drafts.headers.get('vary')).toContain('Authorization')
  })

  test('entityTags reads the header as RFC 9110 lists it', () => {
    expect(entityTags(undefined)).toEqual([])
    expect(entityTags(' * ')).toEqual(['*'])
    expect(entityTags('"a", W/"b",junk, "c"')).toEqual(['"a"', '"b"', '"c"'])
  })
})

describe('over a real socket', () => {
  test('fetch: 200 with ETag and Cache-Control, then 304 with no body', async () => {
    const item = await published('socket')
    const first = await served.fetch(`/api/v1/content/${item.slug}`)
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-control')).toBe('public, max-age=60')
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^"/)
    await first.arrayBuffer()
    const second = await served.fetch(`/api/v1/content/${item.slug}`, { headers: { 'If-None-Match': etag } })
    expect(second.status).toBe(304)
    expect(second.headers.get('etag')).toBe(etag)
    expect(second.headers.get('cache-control')).toBe('public, max-age=60')
    expect((await second.arrayBuffer()).byteLength).toBe(0)
  })

  test('raw HTTP/1.1: the 304 carries no body bytes at all (read to the close)', async () => {
    const item = await published('raw')
    const port = Number(new URL(served.url).port)
    const connection = await RawConnection.open(port)
    connection.write(requestHead('GET', `/api/v1/content/${item.slug}`, {}))
    const first = await connection.response()
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body).content.slug).toBe(item.slug)
    const etag = first.headers.etag ?? ''
    // Same connection, asking the server to close after answering: everything it sends after the
    // head is in `body`.
    connection.write(
      requestHead('GET', `/api/v1/content/${item.slug}`, { 'If-None-Match': etag, Connection: 'close' }),
    )
    const second = await connection.response()
    expect(second.status).toBe(304)
    expect(second.headers.etag).toBe(etag)
    expect(second.headers['cache-control']).toBe('public, max-age=60')
    expect(second.body).toBe('')
    connection.close()
  })
})
