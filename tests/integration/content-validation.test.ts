import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi, expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { attempt } from '@tests/helpers/sql'

// What the admin routes refuse, and the database's own checks behind them.

const BODY_LIMIT_BYTES = 300_000
let t: TestApp
let admin: TestUser
let user: TestUser
const RUN = crypto.randomUUID().slice(0, 8)

const call = (who: TestUser | undefined, method: string, path: string, body?: unknown) =>
  callApi(t, who, method, path, body)
const ok = (who: TestUser | undefined, method: string, path: string, body?: unknown, status = 200) =>
  expectApi(t, who, method, path, body, status)
const draft = (extra: Json = {}) => ({ title: `Validation ${RUN}`, body: 'Text', kind: 'page', ...extra })
const fields = (answer: { body: Json }) => answer.body.error.details?.map((d: Json) => d.field)

beforeAll(async () => {
  t = await testApp({ ...LOCAL_AUTH, BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) })
  ;[admin, user] = await Promise.all([newUser({ admin: true }), newUser()])
}, DB_SETUP_TIMEOUT_MS)

describe('slugs', () => {
  test('made from the title when absent: accents stripped, letters spelled out, punctuation dashed', async () => {
    const { content } = await ok(
      admin,
      'POST',
      '/content',
      draft({ title: `Ça va? Über-Straße & Ærø — ${RUN}!` }),
      201,
    )
    expect(content.slug).toBe(`ca-va-uber-strasse-and-aero-${RUN}`)
    expect(content).toMatchObject({ status: 'draft', published_at: null, author_id: admin.id, kind: 'page' })
  })

  test('a taken slug is a 409 — sent, or made from a title — never a silent suffix', async () => {
    const slug = `taken-${RUN}`
    await ok(admin, 'POST', '/content', draft({ slug }), 201)
    const sent = await call(admin, 'POST', '/content', draft({ slug }))
    expect([sent.status, sent.body.error.code]).toEqual([409, 'CONFLICT'])
    // The same title twice: the second made slug is the first's, so it is refused too.
    await ok(admin, 'POST', '/content', draft({ title: `Same title ${RUN}` }), 201)
    const made = await call(admin, 'POST', '/content', draft({ title: `Same title ${RUN}` }))
    expect([made.status, made.body.error.message]).toEqual([409, `The slug "same-title-${RUN}" is taken`])
    // And renaming another item onto it.
    const { content } = await ok(admin, 'POST', '/content', draft({ slug: `other-${RUN}` }), 201)
    expect((await call(admin, 'PATCH', `/content/${content.id}`, { slug })).status).toBe(409)
  })

  test('the format is lowercase kebab case, at most 120 characters', async () => {
    for (const slug of [
      'Upper',
      'two--dashes',
      '-leading',
      'trailing-',
      'under_score',
      'sp ace',
      'é',
      'a'.repeat(121),
    ]) {
      const answer = await call(admin, 'POST', '/content', draft({ slug }))
      expect({ slug, status: answer.status, fields: fields(answer) }).toEqual({
        slug,
        status: 400,
        fields: ['body.slug'],
      })
    }
    await ok(admin, 'POST', '/content', draft({ slug: `a1-b2-${RUN}` }), 201)
  })

  test('a title with nothing to make a slug of asks for one (400, body.slug)', async () => {
    const answer = await call(admin, 'POST', '/content', draft({ title: '日本語のタイトル' }))
    expect([answer.status, fields(answer)]).toEqual([400, ['body.slug']])
  })
})

describe('fields', () => {
  test('unknown pillar id, more than 20 tags, a 41-character tag, a 201-character title → 400 naming the field', async () => {
    const cases: [Json, string][] = [
      [{ pillar_ids: ['divsexp', 'nopillar'] }, 'body.pillar_ids.1'],
      [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'body.tags'],
      [{ tags: ['x'.repeat(41)] }, 'body.tags.0'],
      [{ tags: [''] }, 'body.tags.0'],
      [{ title: 'x'.repeat(201) }, 'body.title'],
      [{ title: '   ' }, 'body.title'],
      [{ summary: 'x'.repeat(501) }, 'body.summary'],
      [{ kind: 'essay' }, 'body.kind'],
      [{ status: 'published' }, 'body'],
    ]
    for (const [extra, field] of cases) {
      const answer = await call(admin, 'POST', '/content', draft({ slug: `f-${RUN}`, ...extra }))
      expect({ extra, status: answer.status, fields: fields(answer) }).toEqual({
        extra,
        status: 400,
        fields: [field],
      })
    }
    // 20 tags of 40 characters are fine.
    const tags = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(40, 'x'))
    await ok(admin, 'POST', '/content', draft({ slug: `tags-${RUN}`, tags }), 201)
  })

  test('a body of 200,000 characters is kept; 200,001 → 400; past BODY_LIMIT_BYTES → 413', async () => {
    const { content } = await ok(
      admin,
      'POST',
      '/content',
      draft({ slug: `long-${RUN}`, body: 'a'.repeat(200_000) }),
      201,
    )
    expect(content.body).toHaveLength(200_000)
    const over = await call(
      admin,
      'POST',
      '/content',
      draft({ slug: `longer-${RUN}`, body: 'a'.repeat(200_001) }),
    )
    expect([over.status, fields(over)]).toEqual([400, ['body.body']])
    const huge = await call(admin, 'PATCH', `/content/${content.id}`, { body: 'a'.repeat(BODY_LIMIT_BYTES) })
    expect([huge.status, huge.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE'])
  })

  test('NUL characters in any text field → 400, nothing stored', async () => {
    for (const extra of [
      { title: 'a\u0000b' },
      { body: 'x\u0000' },
      { summary: '\u0000' },
      { tags: ['a\u0000'] },
    ]) {
      const answer = await call(admin, 'POST', '/content', draft({ slug: `nul-${RUN}`, ...extra }))
      expect({ extra, status: answer.status }).toEqual({ extra, status: 400 })
    }
    expect((await call(admin, 'GET', `/content/nul-${RUN}`)).status).toBe(404)
  })

  test('repeated tags and pillars are kept once, in order', async () => {
    const { content } = await ok(
      admin,
      'POST',
      '/content',
      draft({ slug: `dups-${RUN}`, tags: ['b', 'a', 'b'], pillar_ids: ['status', 'divsexp', 'status'] }),
      201,
    )
    expect([content.tags, content.pillar_ids]).toEqual([
      ['b', 'a'],
      ['status', 'divsexp'],
    ])
  })
})

describe('who may write', () => {
  test('a user → 403 and anonymous → 401 on every admin route; nothing changes', async () => {
    const { content } = await ok(admin, 'POST', '/content', draft({ slug: `guarded-${RUN}` }), 201)
    const routes: [string, string, unknown][] = [
      ['POST', '/content', draft({ slug: `intruder-${RUN}` })],
      ['PATCH', `/content/${content.id}`, { title: 'Defaced' }],
      ['POST', `/content/${content.id}/publish`, undefined],
      ['POST', `/content/${content.id}/archive`, undefined],
      ['DELETE', `/content/${content.id}`, undefined],
    ]
    for (const [method, path, body] of routes) {
      const asUser = await call(user, method, path, body)
      const asAnon = await call(undefined, method, path, body)
      expect({ method, path, user: asUser.status, anon: asAnon.status }).toEqual({
        method,
        path,
        user: 403,
        anon: 401,
      })
    }
    const after = (await ok(admin, 'GET', `/content/guarded-${RUN}`)).content
    expect(after).toEqual(content)
    expect((await call(admin, 'GET', `/content/intruder-${RUN}`)).status).toBe(404)
  })

  test('unknown ids are 404 on every admin route; a malformed one is a 400', async () => {
    const id = crypto.randomUUID()
    expect((await call(admin, 'PATCH', `/content/${id}`, { title: 'x' })).status).toBe(404)
    expect((await call(admin, 'POST', `/content/${id}/publish`)).status).toBe(404)
    expect((await call(admin, 'POST', `/content/${id}/archive`)).status).toBe(404)
    expect((await call(admin, 'DELETE', `/content/${id}`)).status).toBe(404)
    expect((await call(admin, 'DELETE', '/content/not-a-uuid')).status).toBe(400)
  })
})

describe('the database checks the same rules (as the service role, bypassing the API)', () => {
  test('slug format, kind, unknown pillar, too many or too long tags, body length, a draft with a date', async () => {
    const insert = (columns: string, values: string) =>
      t.services.db.asService((tx) =>
        attempt(
          tx,
          `insert into public.content (slug, kind, title${columns}) values ('db-${RUN}', 'page', 'T'${values})`,
        ),
      )
    expect(await insert('', '')).toHaveLength(0)
    await t.services.db.asService((tx) => tx.query(`delete from public.content where slug = 'db-${RUN}'`))
    const refused = {
      pillar: await insert(', pillar_ids', `, array['divsexp', 'nopillar']`),
      nullPillar: await insert(', pillar_ids', `, array[null]::text[]`),
      tags: await insert(', tags', `, array(select g::text from generate_series(1, 21) g)`),
      longTag: await insert(', tags', `, array[repeat('x', 41)]`),
      body: await insert(', body', `, repeat('x', 200001)`),
      draftDated: await insert(', published_at', ', now()'),
      publishedUndated: await insert(', status', `, 'published'`),
    }
    expect(refused).toEqual({
      pillar: '23514',
      nullPillar: '23514',
      tags: '23514',
      longTag: '23514',
      body: '23514',
      draftDated: '23514',
      publishedUndated: '23514',
    })
    const badSlug = await t.services.db.asService((tx) =>
      attempt(tx, `insert into public.content (slug, kind, title) values ('Bad Slug', 'page', 'T')`),
    )
    expect(badSlug).toBe('23514')
  })
})
