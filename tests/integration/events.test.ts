import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { callApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { attempt, rolledBack } from '@tests/helpers/sql'
import type { AuthUser } from '@/lib/auth/types'
import type { Database, Tx } from '@/lib/db/database'
import { type ActivityRecorder, NO_ACTIVITY } from '@/services/progress/activity-port'
import { type EventInput, EventService } from '@/services/progress/events'
import { type EventRecord, EventStore } from '@/services/progress/events-store'

// POST /api/v1/events: batches of 1..100 typed events with client-made ids. A retried batch
// changes nothing, a batch is one insert statement, any invalid event refuses the whole batch,
// and the table is the server's to write: users can only read their own rows.

const DAY_MS = 24 * 60 * 60 * 1000
// The server's clock, moved by tests that check the time bounds (0: the wall clock).
let skewMs = 0
const clock = () => new Date(Date.now() + skewMs)

let t: TestApp

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH, { clock })
}, DB_SETUP_TIMEOUT_MS)

const post = (user: TestUser | undefined, body: unknown) => callApi(t, user, 'POST', '/events', body)

const event = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: crypto.randomUUID(),
  type: 'page_view',
  occurred_at: clock().toISOString(),
  ...fields,
})
const batch = (n: number, fields: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => event({ page: `/page/${i}`, ...fields }))

/** Events as the service takes them (for calls below the route). */
const inputs = (n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    type: 'page_view',
    occurred_at: clock().toISOString(),
    page: `/page/${i}`,
  }))

/** The user's stored events, as the table owner reads them (no RLS, no API). */
const storedOf = (userId: string) =>
  t.services.db.transaction((tx) =>
    tx.query<Record<string, unknown>>(
      'select id::text, type, page, pillar_id, properties, session_id from public.events where user_id = $1 order by id',
      [userId],
    ),
  )
const countOf = async (userId: string) => (await storedOf(userId)).length

/** Sign the user in once, so a direct service call has their auth.users row (the FK). */
async function known(user: TestUser): Promise<AuthUser> {
  expect((await callApi(t, user, 'GET', '/auth/me')).status).toBe(200)
  return {
    id: user.id,
    email: user.email,
    role: 'user',
    sessionId: undefined,
    claims: { sub: user.id, email: user.email },
    idHash: user.id,
  }
}

describe('accepted and duplicates', () => {
  test('a batch is stored; retrying it answers every event as a duplicate and changes nothing', async () => {
    const user = await newUser()
    const events = batch(5, { type: 'pillar_selected', pillar_id: 'status', session_id: 's-1' })
    events[0] = { ...events[0], properties: { source: 'card', rank: 2 } }
    expect(await post(user, { events })).toEqual({ status: 202, body: { accepted: 5, duplicates: 0 } })
    const before = await storedOf(user.id)
    expect(before).toHaveLength(5)
    expect(before.find((row) => row.id === events[0]?.id)).toMatchObject({
      type: 'pillar_selected',
      pillar_id: 'status',
      session_id: 's-1',
      properties: { source: 'card', rank: 2 },
    })

    expect(await post(user, { events })).toEqual({ status: 202, body: { accepted: 0, duplicates: 5 } })
    // Same ids with other content: still duplicates, and the stored rows are the first ones.
    const altered = events.map((e) => ({ ...e, type: 'modal_opened', page: '/other' }))
    expect(await post(user, { events: altered })).toEqual({
      status: 202,
      body: { accepted: 0, duplicates: 5 },
    })
    expect(await storedOf(user.id)).toEqual(before)

    // A retry mixed with new events: only the new ones are accepted.
    const mixed = [...events.slice(0, 2), ...batch(3)]
    expect(await post(user, { events: mixed })).toEqual({ status: 202, body: { accepted: 3, duplicates: 2 } })
    expect(await countOf(user.id)).toBe(8)
  })

  test('an id repeated within one batch is accepted once; the rest are duplicates (the first is kept)', async () => {
    const user = await newUser()
    const id = crypto.randomUUID()
    const events = [
      event({ id, page: '/first' }),
      event({ page: '/other' }),
      event({ id, page: '/second' }),
      event({ id: id.toUpperCase(), page: '/third' }),
    ]
    expect(await post(user, { events })).toEqual({ status: 202, body: { accepted: 2, duplicates: 2 } })
    const rows = await storedOf(user.id)
    expect(rows).toHaveLength(2)
    expect(rows.find((row) => row.id === id)?.page).toBe('/first')
  })

  test('the same id from another user is theirs: accepted, not a duplicate, and nothing of the first shows', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const shared = event({ page: '/a' })
    expect((await post(a, { events: [shared] })).body).toEqual({ accepted: 1, duplicates: 0 })
    // B's answer is exactly the answer to a never-seen id: it reveals nothing about A.
    expect(await post(b, { events: [{ ...shared, page: '/b' }] })).toEqual({
      status: 202,
      body: { accepted: 1, duplicates: 0 },
    })
    expect((await storedOf(a.id)).map((row) => row.page)).toEqual(['/a'])
    expect((await storedOf(b.id)).map((row) => row.page)).toEqual(['/b'])
  })

  test('every one of the 14 types is accepted, 100 in a batch is the most', async () => {
    const user = await newUser()
    const types = [
      'page_view',
      'pillar_selected',
      'assessment_started',
      'assessment_completed',
      'question_answered',
      'modal_opened',
      'modal_closed',
      'navigation_click',
      'recommendation_clicked',
      'activity_started',
      'graph_interaction',
      'chatbot_interaction',
      'content_engagement',
      'insight_viewed',
    ]
    const events = batch(100).map((e, i) => ({ ...e, type: types[i % types.length] }))
    expect(await post(user, { events })).toEqual({ status: 202, body: { accepted: 100, duplicates: 0 } })
    const stored = new Set((await storedOf(user.id)).map((row) => row.type))
    expect([...stored].sort()).toEqual([...types].sort())
  })
})

describe('validation: 400, named by index, and nothing stored', () => {
  const fieldsOf = (body: Json): string[] => {
    expect(body.error.code).toBe('VALIDATION_ERROR')
    return body.error.details.map((issue: { field: string }) => issue.field)
  }

  test('101 events, 0 events, no events array', async () => {
    const user = await newUser()
    const tooMany = await post(user, { events: batch(101) })
    expect(tooMany.status).toBe(400)
    expect(fieldsOf(tooMany.body)).toEqual(['body.events'])
    const none = await post(user, { events: [] })
    expect(none.status).toBe(400)
    expect(fieldsOf(none.body)).toEqual(['body.events'])
    expect((await post(user, {})).status).toBe(400)
    expect(await countOf(user.id)).toBe(0)
  })

  test('properties: 3 KiB, not an object, too deep, NUL in a key; 2 KiB exactly is fine', async () => {
    const user = await newUser()
    const cases: [unknown, boolean][] = [
      [{ text: 'x'.repeat(3 * 1024) }, false],
      // 1,100 characters, but 2,200 bytes of UTF-8: the limit is in bytes, not characters.
      [{ text: 'é'.repeat(1_100) }, false],
      [['not', 'an', 'object'], false],
      ['text', false],
      [42, false],
      [{ 'k\u0000': 1 }, false],
      [{ text: 'x'.repeat(2_048 - '{"text":""}'.length) }, true],
    ]
    for (const [properties, ok] of cases) {
      const answer = await post(user, { events: [event(), event({ properties })] })
      if (ok) expect(answer.status).toBe(202)
      else {
        expect(answer.status).toBe(400)
        expect(fieldsOf(answer.body)).toEqual(['body.events.1.properties'])
      }
    }
    expect(await countOf(user.id)).toBe(2)
  })

  test('properties are measured as stored: 250 × 1e300 (1.7 KB of JSON, 75 KB as jsonb) → 400', async () => {
    const user = await newUser()
    const huge = { a: Array(250).fill(1e300) }
    // What the old check measured passes: JSON.stringify writes 1e300 as "1e+300".
    expect(new TextEncoder().encode(JSON.stringify(huge)).length).toBeLessThan(2_048)
    const cases: [Record<string, unknown>, boolean][] = [
      [huge, false],
      [{ a: Array(7).fill(1e-300) }, false], // 302 characters each as numeric: 2.1 KB
      [{ a: 1e-300, b: -1.5e21, c: 1e300 }, true], // in full, still far under 2 KiB
      [{ n: 123456789012345680000, small: 0.000001 }, true],
    ]
    for (const [properties, ok] of cases) {
      const answer = await post(user, { events: [event({ properties })] })
      expect({ properties: Object.keys(properties), status: answer.status }).toEqual({
        properties: Object.keys(properties),
        status: ok ? 202 : 400,
      })
      if (!ok) expect(fieldsOf(answer.body)).toEqual(['body.events.0.properties'])
    }
    // What was stored is the number itself, written out in full by jsonb.
    const [stored] = await t.services.db.transaction((tx) =>
      tx.query<{ c: string }>(
        `select properties->>'c' as c
           from public.events where user_id = $1 and properties ? 'c'`,
        [user.id],
      ),
    )
    expect(stored?.c).toBe(`1${'0'.repeat(300)}`)
  })

  test('a row the table still refuses (check 23514) is a 400 VALIDATION_ERROR, never a 500', async () => {
    const user = await known(await newUser())
    // Below the route (no schema): the database's own check is the last line.
    const service = new EventService(new EventStore(t.services.db), NO_ACTIVITY, clock)
    const [bad] = inputs(1)
    const refused = service.ingest(user, [
      { ...(bad as EventInput), properties: { a: Array(250).fill(1e300) } },
    ])
    await expect(refused).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ field: 'body.events', message: expect.stringContaining('could not be stored') }],
    })
    expect(await countOf(user.id)).toBe(0)
  })

  test('occurred_at: 8 days ago or 10 minutes ahead of the (injected) server clock', async () => {
    const user = await newUser()
    // The server's clock runs 3 days ahead of the wall clock: bounds follow it, not Date.now().
    skewMs = 3 * DAY_MS
    try {
      const now = clock().getTime()
      const at = (offsetMs: number) => new Date(now + offsetMs).toISOString()
      const old = await post(user, {
        events: [event({ occurred_at: at(-6 * DAY_MS) }), event({ occurred_at: at(-8 * DAY_MS) })],
      })
      expect(old.status).toBe(400)
      expect(old.body.error.details).toEqual([
        { field: 'body.events.1.occurred_at', message: 'must be within the last 7 days' },
      ])
      const ahead = await post(user, {
        events: [event({ occurred_at: at(4 * 60_000) }), event(), event({ occurred_at: at(10 * 60_000) })],
      })
      expect(ahead.status).toBe(400)
      expect(fieldsOf(ahead.body)).toEqual(['body.events.2.occurred_at'])
      // Two days ahead of the wall clock is now within bounds (the server's clock says so).
      const wallAhead = new Date(Date.now() + 2 * DAY_MS).toISOString()
      expect((await post(user, { events: [event({ occurred_at: wallAhead })] })).status).toBe(202)
      expect(await countOf(user.id)).toBe(1)
    } finally {
      skewMs = 0
    }
  })

  test('unknown type, NUL in page, bad id, bad pillar, unknown field, not a date: each named', async () => {
    const user = await newUser()
    const answer = await post(user, {
      events: [
        event(),
        event({ type: 'points_awarded' }),
        event({ page: '/a\u0000b' }),
        event({ id: 'not-a-uuid' }),
        event({ pillar_id: 'nope' }),
        event({ user_id: crypto.randomUUID() }),
        event({ occurred_at: 'yesterday' }),
        event({ session_id: 's'.repeat(129) }),
      ],
    })
    expect(answer.status).toBe(400)
    expect(fieldsOf(answer.body).sort()).toEqual(
      [
        'body.events.1.type',
        'body.events.2.page',
        'body.events.3.id',
        'body.events.4.pillar_id',
        'body.events.5',
        'body.events.6.occurred_at',
        'body.events.7.session_id',
      ].sort(),
    )
    expect(await countOf(user.id)).toBe(0)
  })

  test('a batch with one bad event among 99 good ones stores nothing (atomic)', async () => {
    const user = await newUser()
    const oneBad = (fields: Record<string, unknown>) =>
      batch(100).map((e, i) => (i === 57 ? { ...e, ...fields } : e))
    const tooOld = oneBad({ occurred_at: new Date(Date.now() - 8 * DAY_MS).toISOString() })
    expect((await post(user, { events: tooOld })).status).toBe(400)
    expect((await post(user, { events: oneBad({ page: 'x'.repeat(513) }) })).status).toBe(400)
    expect(await countOf(user.id)).toBe(0)
  })

  test('unauthenticated → 401, also with a valid batch', async () => {
    const answer = await post(undefined, { events: batch(1) })
    expect(answer.status).toBe(401)
    expect(answer.body.error.code).toBe('UNAUTHORIZED')
  })
})

describe('the write: one statement, one transaction with the activity note', () => {
  /** `db` whose service transactions count the inserts into public.events. */
  function counting(db: Database) {
    const counter = { inserts: 0, statements: 0 }
    const wrap = (tx: Tx): Tx => ({
      ...tx,
      query: (sql, params) => {
        counter.statements += 1
        if (/insert\s+into\s+public\.events/i.test(sql)) counter.inserts += 1
        return tx.query(sql, params)
      },
    })
    return { counter, db: { ...db, asService: (fn) => db.asService((tx) => fn(wrap(tx))) } as Database }
  }

  // The obvious implementation: one insert per event, each deduplicated on its own.
  class PerEventStore extends EventStore {
    override async insertBatch(tx: Tx, userId: string, events: readonly EventRecord[]) {
      let written = 0
      for (const e of events) {
        const rows = await tx.query(
          `insert into public.events (user_id, id, type, occurred_at, session_id, page, pillar_id, properties)
           values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb) on conflict (user_id, id) do nothing returning 1`,
          [
            userId,
            e.id,
            e.type,
            e.occurred_at,
            e.session_id,
            e.page,
            e.pillar_id,
            JSON.stringify(e.properties),
          ],
        )
        written += rows.length
      }
      return written
    }
  }

  test('a batch of 100 is ONE insert statement; the per-event version issues 100 for the same rows', async () => {
    const [a, b] = [await known(await newUser()), await known(await newUser())]
    const ours = counting(t.services.db)
    const service = new EventService(new EventStore(ours.db), NO_ACTIVITY, clock)
    const events = inputs(100)
    expect(await service.ingest(a, events)).toEqual({ accepted: 100, duplicates: 0 })
    expect(ours.counter.inserts).toBe(1)
    // Every statement the batch's own work sent (after the transaction's identity): the insert.
    expect(ours.counter.statements).toBe(1)

    const naive = counting(t.services.db)
    const slow = new EventService(new PerEventStore(naive.db), NO_ACTIVITY, clock)
    expect(await slow.ingest(b, events)).toEqual({ accepted: 100, duplicates: 0 })
    expect(naive.counter.inserts).toBe(100)
    expect(await countOf(b.id)).toBe(await countOf(a.id))
  })

  test('the activity note runs in the batch’s transaction: it sees the rows, and its failure stores nothing', async () => {
    const user = await known(await newUser())
    const notes: { userId: string; at: Date; visible: number }[] = []
    const watching: ActivityRecorder = {
      async noteActivity(tx, userId, at) {
        const [row] = await tx.query<{ n: number }>(
          'select count(*)::int as n from public.events where user_id = $1',
          [userId],
        )
        notes.push({ userId, at, visible: row?.n ?? 0 })
      },
    }
    skewMs = 60_000
    try {
      const service = new EventService(new EventStore(t.services.db), watching, clock)
      const events = inputs(3)
      await service.ingest(user, events)
      expect(notes).toHaveLength(1)
      expect(notes[0]?.userId).toBe(user.id)
      expect(notes[0]?.visible).toBe(3)
      // The server's clock, not a time the client sent.
      expect(Math.abs((notes[0]?.at.getTime() ?? 0) - (Date.now() + 60_000))).toBeLessThan(5_000)
      // A retry stores nothing, so it is no new activity either.
      await service.ingest(user, events)
      expect(notes).toHaveLength(1)
    } finally {
      skewMs = 0
    }

    const failing: ActivityRecorder = {
      noteActivity: async () => {
        throw new Error('ledger down')
      },
    }
    const broken = new EventService(new EventStore(t.services.db), failing, clock)
    await expect(broken.ingest(user, inputs(2))).rejects.toThrow('ledger down')
    expect(await countOf(user.id)).toBe(3)
  })
})

describe('RLS alone (as the user, no service filter)', () => {
  test('another user sees none of the events; the owner sees their own', async () => {
    const [a, b] = [await newUser(), await newUser()]
    await post(a, { events: batch(2) })
    const read = (reader: TestUser) =>
      t.services.db.asUser({ sub: reader.id }, (tx) =>
        tx.query('select id from public.events where user_id = $1', [a.id]),
      )
    expect(await read(b)).toEqual([])
    expect(await read(a)).toHaveLength(2)
    // Not even by guessing the id, nor with no filter at all.
    const all = await t.services.db.asUser({ sub: b.id }, (tx) =>
      tx.query('select user_id from public.events'),
    )
    expect(all.every((row) => row.user_id === b.id)).toBe(true)
  })

  test('authenticated holds no write privilege: insert, update and delete are refused (42501)', async () => {
    const user = await newUser()
    await post(user, { events: batch(1) })
    const tries = await rolledBack(
      (fn) => t.services.db.asUser({ sub: user.id }, fn),
      async (tx) => [
        await attempt(
          tx,
          `insert into public.events (user_id, id, type, occurred_at) values ($1, $2, 'page_view', now())`,
          [user.id, crypto.randomUUID()],
        ),
        await attempt(tx, `update public.events set type = 'modal_opened' where user_id = $1`, [user.id]),
        await attempt(tx, 'delete from public.events where user_id = $1', [user.id]),
      ],
    )
    expect(tries).toEqual(['42501', '42501', '42501'])
    // anon has nothing at all, not even select.
    const anon = await rolledBack(
      (fn) => t.services.db.transaction(fn),
      async (tx) => {
        await tx.query(`select set_config('role', 'anon', true)`)
        return attempt(tx, 'select 1 from public.events limit 1')
      },
    )
    expect(anon).toBe('42501')
  })
})

describe('per-user rate limit (RATE_LIMIT_EVENTS)', () => {
  let limited: TestApp
  beforeAll(async () => {
    limited = await testApp({ ...LOCAL_AUTH, RATE_LIMIT_EVENTS: '3' })
  })

  test('past the limit → 429 with Retry-After; a second user from the same address is still served', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const send = (user: TestUser) =>
      limited.request('/api/v1/events', {
        method: 'POST',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch(1) }),
      })
    for (let i = 0; i < 3; i++) expect((await send(a)).status).toBe(202)
    const refused = await send(a)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    const other = await send(b)
    expect(other.status).toBe(202)
    expect(other.headers.get('ratelimit-limit')).toBe('3')
    expect(other.headers.get('ratelimit-remaining')).toBe('2')
  })

  test('RATE_LIMIT_EVENTS=0 turns it off', async () => {
    const off = await testApp({ ...LOCAL_AUTH, RATE_LIMIT_EVENTS: '0' })
    expect(off.services.rateLimiter.policies.events).toBeUndefined()
    expect(limited.services.rateLimiter.policies.events?.limit).toBe(3)
  })
})

describe('over a real socket', () => {
  let served: ServedApp
  beforeAll(async () => {
    served = await servedApp({ ...LOCAL_AUTH, BODY_LIMIT_BYTES: '65536' })
  })
  afterAll(() => served.stop())

  const send = (user: TestUser, body: string, type = 'application/json') =>
    served.fetch('/api/v1/events', {
      method: 'POST',
      headers: { ...user.headers, 'content-type': type },
      body,
    })

  test('oversized body → 413, 101 events → 400, wrong content type → 415, a good batch → 202', async () => {
    const user = await newUser()
    const big = batch(100, { properties: { text: 'x'.repeat(1_000) } })
    const oversized = await send(user, JSON.stringify({ events: big }))
    expect(oversized.status).toBe(413)
    expect(((await oversized.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
    const tooMany = await send(user, JSON.stringify({ events: batch(101) }))
    expect(tooMany.status).toBe(400)
    const wrongType = await send(user, JSON.stringify({ events: batch(1) }), 'text/plain')
    expect(wrongType.status).toBe(415)
    const good = await send(user, JSON.stringify({ events: batch(100) }))
    expect(good.status).toBe(202)
    expect(await good.json()).toEqual({ accepted: 100, duplicates: 0 })
  })
})
