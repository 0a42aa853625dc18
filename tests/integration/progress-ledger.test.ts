import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi, expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { attempt } from '@tests/helpers/sql'
import type { Tx } from '@/lib/db/database'
import { createLogger } from '@/lib/log'
import { EVENT_TYPES } from '@/services/progress/events-store'
import { PointsLedger } from '@/services/progress/ledger'
import type { LedgerStore } from '@/services/progress/ledger-store'

// The points ledger end to end: what each real cause awards, that nothing else awards anything,
// streaks over UTC days with the server's clock moved by the test, and the daily note of writes.
let t: TestApp
let now = new Date('2031-03-10T12:00:00.000Z')
const DAY = 24 * 60 * 60 * 1000
const nextDay = (days = 1) => {
  now = new Date(now.getTime() + days * DAY)
}

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH, { clock: () => now })
}, DB_SETUP_TIMEOUT_MS)

const me = (user: TestUser) => expectApi(t, user, 'GET', '/gamification/me')

/**
 * Creates, answers every question (or only the first `only`) with `answer`, and completes an
 * assessment; returns its id.
 */
async function complete(
  user: TestUser,
  pillar_id: string,
  mode: string,
  answer = 4,
  only?: number,
): Promise<string> {
  const { assessment } = await expectApi(t, user, 'POST', '/assessments', { pillar_id, mode }, 201)
  const { questions } = await expectApi(t, user, 'GET', `/assessments/${assessment.id}/questions`)
  for (const q of (questions as { id: string }[]).slice(0, only)) {
    await expectApi(t, user, 'POST', `/assessments/${assessment.id}/answers`, { question_id: q.id, answer })
  }
  await expectApi(t, user, 'POST', `/assessments/${assessment.id}/complete`)
  return assessment.id
}

const reasons = (body: Json) =>
  (body.recent as { reason: string; points: number }[]).map((r) => [r.reason, r.points])

describe('what each cause awards', () => {
  test('first assessment: 100 + 50 first in the mode + 5 for the day; then 50 per repeat, 100 per new pillar', async () => {
    const user = await newUser()
    await complete(user, 'divsexp', 'egalitarian', 4) // pillar score 75
    let body = await me(user)
    expect(body.points).toBe(155)
    expect(reasons(body).sort()).toEqual(
      [
        ['assessment_completed', 100],
        ['daily_activity', 5],
        ['first_in_mode', 50],
      ].sort(),
    )
    expect(body.level).toEqual({ number: 2, title: 'Observer', next_at: 250 })
    expect(body.badges.map((b: Json) => b.key).sort()).toEqual(['pillar_score_30', 'pillar_score_60'])
    expect(body.streak).toEqual({ current: 1, longest: 1, last_active_date: '2031-03-10' })

    await complete(user, 'divsexp', 'egalitarian', 5) // the same pillar again: 50, score 100
    await complete(user, 'indrecip', 'egalitarian', 3) // a new pillar of the same mode: 100, no mode bonus
    await complete(user, 'status', 'hierarchical', 3) // another mode: 100 + 50
    body = await me(user)
    expect(body.points).toBe(155 + 50 + 100 + 150)
    expect(reasons(body).slice(0, 4)).toEqual([
      ['first_in_mode', 50],
      ['assessment_completed', 100],
      ['assessment_completed', 100],
      ['assessment_repeated', 50],
    ])
    expect(body.badges.map((b: Json) => b.key)).toContain('pillar_score_85')
  })

  test('a partly answered assessment completes but earns nothing: looped, it farms no points or badges', async () => {
    const user = await newUser()
    for (let i = 0; i < 10; i++) {
      await complete(user, 'divsexp', 'egalitarian', 5, 1) // one answer of 5: a pillar score of 100
      await complete(user, 'status', 'hierarchical', 5, 7) // all but one
    }
    const body = await me(user)
    // Only the day's activity (the answers are writes); no completion award, no badge.
    expect({ points: body.points, badges: body.badges, recent: reasons(body) }).toEqual({
      points: 5,
      badges: [],
      recent: [['daily_activity', 5]],
    })
    // A divsexp assessment answered in full then earns what a first one does.
    await complete(user, 'divsexp', 'egalitarian', 5)
    expect((await me(user)).points).toBe(5 + 150)
  })

  test('repeats of a pillar: 50 once per pillar and UTC day, nothing for further repeats that day', async () => {
    now = new Date('2031-04-01T23:00:00.000Z')
    const user = await newUser()
    for (let i = 0; i < 4; i++) await complete(user, 'incresp', 'hierarchical')
    expect((await me(user)).points).toBe(155 + 50)
    now = new Date('2031-04-02T00:30:00.000Z') // the next UTC day: one more repeat award
    for (let i = 0; i < 3; i++) await complete(user, 'incresp', 'hierarchical')
    const body = await me(user)
    expect(body.points).toBe(155 + 50 + 5 + 50)
    const causes = await t.services.db.asService((tx) =>
      tx.query<{ cause_key: string }>(
        `select cause_key from public.points_ledger where user_id = $1 and reason = 'assessment_repeated' order by id`,
        [user.id],
      ),
    )
    expect(causes.map((r) => r.cause_key)).toEqual([
      'assessment_repeated:incresp:2031-04-01',
      'assessment_repeated:incresp:2031-04-02',
    ])
    // Another pillar the same day is its own first.
    await complete(user, 'ownprosp', 'hierarchical')
    expect((await me(user)).points).toBe(body.points + 100)
  })

  test('deleting the first assessment of a pillar does not make the next one "first" again', async () => {
    const user = await newUser()
    const first = await complete(user, 'popularity', 'egalitarian')
    await expectApi(t, user, 'DELETE', `/assessments/${first}`, undefined, 204)
    await complete(user, 'popularity', 'egalitarian')
    const body = await me(user)
    expect(body.points).toBe(155 + 50)
    expect(reasons(body)[0]).toEqual(['assessment_repeated', 50])
  })
})

describe('no points but from real causes', () => {
  test('profile patches, events of every type, replayed completions and re-run award functions add nothing beyond the day', async () => {
    const user = await newUser()
    const id = await complete(user, 'grpprosp', 'egalitarian')
    const before = (await me(user)).points
    expect(before).toBe(155)

    // Unknown fields are refused, the allowed ones are activity of a day already counted.
    for (const body of [{ points: 100_000 }, { level: 11 }, { badges: ['points_5000'] }, { streak: 30 }]) {
      expect((await callApi(t, user, 'PATCH', '/users/me', body)).status).toBe(400)
    }
    await expectApi(t, user, 'PATCH', '/users/me', { display_name: 'Grace', leaderboard_opt_in: true })
    const events = EVENT_TYPES.map((type) => ({
      id: crypto.randomUUID(),
      type,
      occurred_at: now.toISOString(),
    }))
    await expectApi(t, user, 'POST', '/events', { events }, 202)
    await expectApi(t, user, 'POST', '/events', { events }, 202) // a retried batch
    expect((await callApi(t, user, 'POST', `/assessments/${id}/complete`)).status).toBe(409)
    // The award functions run again for every cause already awarded: each one is spent.
    await t.services.db.asService(async (tx) => {
      await tx.query('select public.progress_assessment_completed($1, $2, $3)', [
        user.id,
        id,
        now.toISOString(),
      ])
      await tx.query('select public.progress_note_activity($1, $2)', [user.id, now.toISOString()])
    })
    expect((await me(user)).points).toBe(before)

    // A new day: the same writes are worth the day's 5 once, however many there are.
    nextDay()
    await expectApi(t, user, 'PATCH', '/users/me', { bio: 'one' })
    await expectApi(
      t,
      user,
      'POST',
      '/events',
      { events: [{ ...events[0], id: crypto.randomUUID(), occurred_at: now.toISOString() }] },
      202,
    )
    await expectApi(t, user, 'PATCH', '/users/me', { bio: 'two' })
    const body = await me(user)
    expect(body.points).toBe(before + 5)
    expect(body.streak).toMatchObject({ current: 2, longest: 2 })
  })

  test('as the user, SQL can neither write the ledger, the summary or badges, nor call an award function (42501)', async () => {
    const user = await newUser()
    await complete(user, 'outresp', 'egalitarian')
    const outcomes = await t.services.db.asUser({ sub: user.id }, async (tx: Tx) => {
      const at = now.toISOString()
      return [
        await attempt(
          tx,
          `insert into public.points_ledger (user_id, points, reason, cause_key, created_at)
                           values ($1, 1000, 'daily_activity', 'forged', now())`,
          [user.id],
        ),
        await attempt(tx, 'update public.points_summary set points = 100000 where user_id = $1', [user.id]),
        await attempt(tx, 'update public.points_ledger set points = 1000 where user_id = $1', [user.id]),
        await attempt(tx, 'delete from public.points_ledger where user_id = $1', [user.id]),
        await attempt(
          tx,
          `insert into public.user_badges (user_id, badge_key, earned_at) values ($1, 'points_5000', now())`,
          [user.id],
        ),
        await attempt(tx, `insert into public.points_summary (user_id, points) values ($1, 5)`, [
          crypto.randomUUID(),
        ]),
        await attempt(tx, 'select public.progress_note_activity($1, $2)', [user.id, at]),
        await attempt(tx, `select public._progress_award($1, 1000, 'daily_activity', 'x', now())`, [user.id]),
        await attempt(tx, 'select public.progress_assessment_completed($1, $2, $3)', [
          user.id,
          crypto.randomUUID(),
          at,
        ]),
        await attempt(
          tx,
          `insert into public.badges (key, name, description, rule, threshold, position)
                           values ('forged', 'f', 'f', 'points', 0, 999)`,
        ),
      ]
    })
    expect(outcomes).toEqual(Array(outcomes.length).fill('42501'))
    expect((await me(user)).points).toBe(155)
  })

  test('the ledger is append-only even for the service', async () => {
    const user = await newUser()
    await complete(user, 'normexp', 'hierarchical')
    const outcome = await t.services.db.asService((tx) =>
      attempt(tx, 'update public.points_ledger set points = 1 where user_id = $1', [user.id]),
    )
    expect(outcome).toBe('42501')
  })
})

describe('concurrent completions (PGlite serializes them; real Postgres: progress-postgres.test.ts)', () => {
  test('20 concurrent completions of one assessment: one 200, one award', async () => {
    const user = await newUser()
    const { assessment } = await expectApi(
      t,
      user,
      'POST',
      '/assessments',
      { pillar_id: 'dirrecip', mode: 'hierarchical' },
      201,
    )
    const { questions } = await expectApi(t, user, 'GET', `/assessments/${assessment.id}/questions`)
    for (const q of questions as { id: string }[]) {
      await expectApi(t, user, 'POST', `/assessments/${assessment.id}/answers`, {
        question_id: q.id,
        answer: 2,
      })
    }
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => callApi(t, user, 'POST', `/assessments/${assessment.id}/complete`)),
    )
    expect(statuses.map((s) => s.status).sort()).toEqual([200, ...Array(19).fill(409)])
    expect((await me(user)).points).toBe(155)
  })
})

describe('streaks over UTC days (the server clock, moved by the test)', () => {
  test('consecutive days grow it, bonuses at 3, 7, 14 and 30 once, a gap resets it, the longest stays', async () => {
    const user = await newUser()
    now = new Date('2031-05-01T23:59:59.000Z')
    const write = () => expectApi(t, user, 'PATCH', '/users/me', { bio: `day ${now.toISOString()}` })
    await write()
    now = new Date('2031-05-02T00:00:00.000Z') // one second later, the next UTC day
    await write()
    await write()
    let body = await me(user)
    expect(body.streak).toEqual({ current: 2, longest: 2, last_active_date: '2031-05-02' })
    expect(body.points).toBe(10)
    for (let day = 3; day <= 30; day++) {
      nextDay()
      await write()
    }
    body = await me(user)
    expect(body.streak).toEqual({ current: 30, longest: 30, last_active_date: '2031-05-30' })
    expect(body.points).toBe(30 * 5 + 4 * 10)
    const bonuses = (
      await t.services.db.asService((tx) =>
        tx.query<{ cause_key: string }>(
          `select cause_key from public.points_ledger where user_id = $1 and reason = 'streak_bonus' order by id`,
          [user.id],
        ),
      )
    ).map((r) => r.cause_key)
    expect(bonuses).toEqual([
      'streak:3:2031-05-01',
      'streak:7:2031-05-01',
      'streak:14:2031-05-01',
      'streak:30:2031-05-01',
    ])
    expect(body.badges.map((b: Json) => b.key)).toEqual(['streak_3', 'streak_7', 'streak_14', 'streak_30'])

    // A missed day: shown as broken at once, restarted by the next activity; longest kept.
    nextDay(2)
    body = await me(user)
    expect(body.streak).toEqual({ current: 0, longest: 30, last_active_date: '2031-05-30' })
    await write()
    nextDay()
    await write()
    nextDay()
    await write()
    body = await me(user)
    expect(body.streak).toEqual({ current: 3, longest: 30, last_active_date: '2031-06-03' })
    // A new run reaching 3 earns its own bonus; the badge stays earned once.
    expect(body.points).toBe(33 * 5 + 5 * 10)
    expect(body.badges.filter((b: Json) => b.key === 'streak_3')).toHaveLength(1)
  })
})

describe('the daily note of authenticated writes', () => {
  test('not for failed writes, account deletion or logout; once per user and day', async () => {
    now = new Date('2031-08-01T10:00:00.000Z')
    const user = await newUser()
    await expectApi(t, user, 'GET', '/users/me') // a read: nothing
    expect((await callApi(t, user, 'PATCH', '/users/me', { role: 'admin' })).status).toBe(400)
    expect((await me(user)).points).toBe(0)
    await expectApi(t, user, 'POST', '/auth/logout', undefined, 204)
    const summaries = await t.services.db.asService((tx) =>
      tx.query('select 1 from public.points_summary where user_id = $1', [user.id]),
    )
    expect(summaries).toEqual([])

    const leaving = await newUser()
    await expectApi(t, leaving, 'GET', '/users/me')
    await expectApi(t, leaving, 'DELETE', '/users/me', undefined, 204)
    const rows = await t.services.db.asService((tx) =>
      tx.query('select 1 from public.points_summary where user_id = $1', [leaving.id]),
    )
    expect(rows).toEqual([])
    expect(t.logs.filter((l) => l.msg === 'daily activity not noted')).toEqual([])
  })

  test('a failed note is logged and does not throw; the ledger calls the database once per user and day', async () => {
    let calls = 0
    let fail = false
    const store = {
      asService: (fn: (tx: Tx) => Promise<unknown>) => fn({} as Tx),
      noteActivity: async () => {
        calls++
        if (fail) throw new Error('database down')
      },
    } as unknown as LedgerStore
    let clock = new Date('2031-01-01T08:00:00Z')
    const lines: string[] = []
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) } as never)
    const ledger = new PointsLedger(store, () => clock, logger)
    await Promise.all([ledger.noteWrite('u1'), ledger.noteWrite('u1'), ledger.noteWrite('u2')])
    await ledger.noteWrite('u1')
    expect(calls).toBe(2)
    clock = new Date('2031-01-02T00:00:00Z')
    fail = true
    await ledger.noteWrite('u1') // a new day, the database fails: logged, not thrown…
    expect(lines.some((line) => line.includes('daily activity not noted') && !line.includes('u1'))).toBe(true)
    fail = false
    await ledger.noteWrite('u1') // …and tried again on the next write
    await ledger.noteWrite('u1')
    expect(calls).toBe(4)
  })
})
