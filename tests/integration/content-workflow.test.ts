import { beforeAll, describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { callApi, expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { AuthUser } from '@/lib/auth/types'
import { createLogger } from '@/lib/log'
import type { ContentIndexer } from '@/services/content/indexer-port'
import { ContentService } from '@/services/content/service'
import { ContentStore } from '@/services/content/store'

// The publishing workflow: timestamps on every change, what publishing and republishing do,
// the list's order, filters, search and cursor, and the calls to the knowledge-base indexer.

let t: TestApp
let admin: TestUser
const RUN = crypto.randomUUID().slice(0, 8)

const call = (who: TestUser | undefined, method: string, path: string, body?: unknown) =>
  callApi(t, who, method, path, body)
const ok = (who: TestUser | undefined, method: string, path: string, body?: unknown, status = 200) =>
  expectApi(t, who, method, path, body, status)
const create = async (extra: Json = {}) =>
  (
    await ok(
      admin,
      'POST',
      '/content',
      {
        title: `Workflow ${crypto.randomUUID().slice(0, 8)}`,
        body: 'Text',
        kind: 'blog',
        tags: [RUN],
        ...extra,
      },
      201,
    )
  ).content

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  admin = await newUser({ admin: true })
}, DB_SETUP_TIMEOUT_MS)

describe('timestamps and states', () => {
  test('create → edit → publish → archive → republish: updated_at moves on each change, published_at is the first publication', async () => {
    const created = await create()
    expect(created).toMatchObject({ status: 'draft', published_at: null })
    expect(created.updated_at).toBe(created.created_at)

    const edited = (
      await ok(admin, 'PATCH', `/content/${created.id}`, { title: 'Edited title', summary: 'Short' })
    ).content
    expect(edited).toMatchObject({
      title: 'Edited title',
      summary: 'Short',
      slug: created.slug,
      published_at: null,
    })
    expect(edited.updated_at > created.updated_at).toBe(true)

    const first = (await ok(admin, 'POST', `/content/${created.id}/publish`)).content
    expect(first.status).toBe('published')
    expect(first.published_at).not.toBeNull()
    expect(first.updated_at > edited.updated_at).toBe(true)

    // Publishing what is published changes nothing.
    expect((await ok(admin, 'POST', `/content/${created.id}/publish`)).content).toEqual(first)

    const archived = (await ok(admin, 'POST', `/content/${created.id}/archive`)).content
    expect(archived).toMatchObject({ status: 'archived', published_at: first.published_at })
    expect(archived.updated_at > first.updated_at).toBe(true)
    expect((await ok(admin, 'POST', `/content/${created.id}/archive`)).content).toEqual(archived)

    const again = (await ok(admin, 'POST', `/content/${created.id}/publish`)).content
    expect(again).toMatchObject({ status: 'published', published_at: first.published_at })
    expect(again.updated_at > archived.updated_at).toBe(true)

    // A patch that changes nothing keeps updated_at; created_at never moves.
    const same = (await ok(admin, 'PATCH', `/content/${created.id}`, { title: 'Edited title' })).content
    expect(same).toEqual(again)
    expect((await ok(admin, 'PATCH', `/content/${created.id}`, {})).content).toEqual(again)
    expect(same.created_at).toBe(created.created_at)
  })

  test('an archived draft was never published: published_at stays null; delete → 204, then 404', async () => {
    const item = await create()
    const archived = (await ok(admin, 'POST', `/content/${item.id}/archive`)).content
    expect(archived).toMatchObject({ status: 'archived', published_at: null })
    const removed = await call(admin, 'DELETE', `/content/${item.id}`)
    expect(removed.status).toBe(204)
    expect(removed.body as unknown).toBeNull()
    expect((await call(admin, 'GET', `/content/${item.slug}`)).status).toBe(404)
    expect((await call(admin, 'DELETE', `/content/${item.id}`)).status).toBe(404)
  })
})

describe('the list', () => {
  test('newest publication first, filters by kind, tag and pillar, and pages by cursor without gaps or repeats', async () => {
    const tag = `list-${RUN}`
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const item = await create({
        tags: [tag, i % 2 ? 'odd' : 'even'],
        kind: i < 3 ? 'blog' : 'resource',
        pillar_ids: i === 4 ? ['grpprosp'] : [],
      })
      await ok(admin, 'POST', `/content/${item.id}/publish`)
      ids.unshift(item.id) // newest first
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: Json = await ok(
        undefined,
        'GET',
        `/content?tag=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(page.data.length).toBeLessThanOrEqual(2)
      seen.push(...page.data.map((item: Json) => item.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual(ids)
    const only = async (query: string) =>
      (await ok(undefined, 'GET', `/content?tag=${tag}&${query}`)).data.map((item: Json) => item.id)
    expect(await only('kind=resource')).toEqual(ids.slice(0, 2))
    expect(await only('pillar_id=grpprosp')).toEqual([ids[0]])
    expect((await ok(undefined, 'GET', `/content?tag=${tag}&kind=page`)).data).toEqual([])
    expect((await call(undefined, 'GET', '/content?cursor=bogus')).status).toBe(400)
    expect((await call(undefined, 'GET', '/content?pillar_id=nopillar')).status).toBe(400)
  })

  test('q is full-text search (websearch syntax) over title, summary and body, newest first', async () => {
    // Letters only: a token with digits is not stemmed.
    const word = `zyx${RUN.replace(/\d/g, (d) => 'ghijklmnop'[Number(d)] ?? 'q')}`
    const inBody = await create({ body: `The ${word}s gather at dawn.` })
    const inTitle = await create({ title: `About ${word} ${RUN}` })
    const both = await create({ summary: `${word} and retrospectives` })
    const draftOnly = await create({ body: word })
    for (const item of [inBody, inTitle, both]) await ok(admin, 'POST', `/content/${item.id}/publish`)
    const search = async (q: string) =>
      (await ok(undefined, 'GET', `/content?q=${encodeURIComponent(q)}`)).data.map((item: Json) => item.id)
    // Stemmed ("zyx…s" matches "zyx…"), drafts never, newest publication first.
    expect(await search(word)).toEqual([both.id, inTitle.id, inBody.id])
    expect(await search(`${word} retrospective`)).toEqual([both.id])
    expect(await search(`${word} -retrospectives`)).toEqual([inTitle.id, inBody.id])
    expect(await search(`"${word} and retrospectives"`)).toEqual([both.id])
    expect(await search(`${word} -retrospectives`)).not.toContain(draftOnly.id)
    expect((await call(undefined, 'GET', `/content?q=${'x'.repeat(201)}`)).status).toBe(400)
  })
})

describe('the knowledge-base indexer', () => {
  function service(indexer: ContentIndexer) {
    const lines: Json[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
        done()
      },
    })
    return {
      lines,
      content: new ContentService(new ContentStore(t.services.db), indexer, createLogger('info', sink)),
    }
  }
  const asAdmin = (): AuthUser => ({
    id: admin.id,
    email: admin.email,
    role: 'admin',
    sessionId: undefined,
    claims: { sub: admin.id, email: admin.email },
    idHash: 'x',
  })

  test('called after publish and after editing a published item; removal after archive and delete; not for drafts', async () => {
    const calls: string[] = []
    const { content } = service({
      indexPublished: async (item) => {
        calls.push(`index:${item.title}:${item.pillar_ids.join(',')}`)
      },
      remove: async (id) => {
        calls.push(`remove:${id === created.id}`)
      },
    })
    const created = await content.create(asAdmin(), {
      title: `Idx ${RUN}`,
      body: 'b',
      kind: 'page',
      tags: [RUN],
    })
    await content.update(asAdmin(), created.id, { body: 'draft edit' })
    expect(calls).toEqual([])
    await content.publish(asAdmin(), created.id)
    await content.publish(asAdmin(), created.id) // no change: not indexed again
    await content.update(asAdmin(), created.id, { pillar_ids: ['status'] })
    await content.update(asAdmin(), created.id, { pillar_ids: ['status'] }) // no change
    await content.archive(asAdmin(), created.id)
    await content.remove(asAdmin(), created.id)
    expect(calls).toEqual([`index:Idx ${RUN}:`, `index:Idx ${RUN}:status`, 'remove:true', 'remove:true'])
  })

  test('an indexer failure is logged and the content request still succeeds', async () => {
    const { content, lines } = service({
      indexPublished: async () => {
        throw new Error('embeddings down')
      },
      remove: async () => {
        throw new Error('database hiccup')
      },
    })
    const created = await content.create(asAdmin(), { title: `Fails ${RUN}`, body: 'b', kind: 'page' })
    expect((await content.publish(asAdmin(), created.id)).status).toBe('published')
    expect((await content.archive(asAdmin(), created.id)).status).toBe('archived')
    expect(lines.map((l) => [l.msg, l.content_id, (l.err as Json)?.message])).toEqual([
      ['content indexing failed; the hourly job indexes it again', created.id, 'embeddings down'],
      ['removing content from the knowledge base failed', created.id, 'database hiccup'],
    ])
  })

  test('the service checks the admin role itself, whatever called it', async () => {
    const { content } = service({ indexPublished: async () => {}, remove: async () => {} })
    const user = { ...asAdmin(), role: 'user' as const }
    await expect(content.create(user, { title: 'No', body: '', kind: 'page' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
  })
})
