import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi, expectApi } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { createAuthUser, DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database } from '@/lib/db/database'

// A week in February 2020 that nothing else writes into: every row below is dated in SQL, and
// each figure is compared with a count written separately over the same raw rows.
const FROM = '2020-02-03T00:00:00.000Z'
const TO = '2020-02-10T00:00:00.000Z'
const at = (offset: string) => `'${TO}'::timestamptz + interval '${offset}'`

let app: TestApp
let db: Database
let admin: TestUser
let user: TestUser

const one = async (sql: string, params: unknown[] = [FROM, TO]) => {
  const [row] = await db.asService((tx) => tx.query<{ n: number }>(sql, params))
  return Number(row?.n)
}

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  // The server's clock at TO: the defaults (to = now, from = 30 days earlier) land on these rows.
  app = await testApp(LOCAL_AUTH, { clock: () => new Date(TO) })
  admin = await newUser({ admin: true })
  user = await newUser()
  const ids = await Promise.all(Array.from({ length: 7 }, () => createAuthUser(db).then((u) => u.id)))
  const [u1, u2, u3, u4, u5, u6, late] = ids as [string, string, string, string, string, string, string]
  await db.transaction(async (tx) => {
    // Users: six created before the window, one after it. last_seen_at is only the latest
    // sighting (u1 and u4 were seen again after `to`); activity is what counts: events received
    // and daily-activity awards, at the 1/7/30-day edges.
    for (const [id, created, seen] of [
      [u1, at('-40 days'), at('1 day')],
      [u2, at('-40 days'), at('2 days')],
      [u3, at('-40 days'), at('-20 days')],
      [u4, at('-40 days'), at('1 hour')],
      [u5, at('-40 days'), at('-30 minutes')], // seen, but no activity: not active
      [u6, at('-40 days'), at('-7 days')],
      [late, at('20 days'), at('21 days')],
    ] as const) {
      await tx.query(
        `insert into public.user_profiles (id, created_at, last_seen_at) values ($1, ${created}, ${seen})
         on conflict (id) do update set created_at = excluded.created_at, last_seen_at = excluded.last_seen_at`,
        [id],
      )
    }
    const award = (user: string, reason: string, when: string) =>
      tx.query(
        `insert into public.points_ledger (user_id, points, reason, cause_key, created_at)
         values ($1, 5, $2, $2 || ':' || (${when})::text, ${when})`,
        [user, reason],
      )
    await award(u2, 'daily_activity', at('-3 days'))
    await award(u3, 'daily_activity', at('-20 days'))
    await award(u4, 'daily_activity', at('-2 hours')) // active in the last day, seen again since
    await award(u5, 'streak_bonus', at('-1 hour')) // not a daily-activity row: not activity
    await award(u3, 'daily_activity', at('-31 days')) // before the 30 days
    await award(late, 'daily_activity', at('20 days'))
    // Assessments: 4 started in the window (2 of them completed in it), 1 completed in it but
    // started before, 1 started exactly at `to` (outside).
    const assessment = (
      user: string,
      pillar: string,
      mode: string,
      created: string,
      completed?: string,
      score?: number,
    ) =>
      tx.query(
        `insert into public.assessment_sessions (user_id, pillar_id, mode, status, results, created_at, completed_at)
         values ($1, $2, $3, $4, $5::text::jsonb, ${created}, ${completed ?? 'null'})`,
        [
          user,
          pillar,
          mode,
          completed ? 'completed' : 'in_progress',
          completed ? JSON.stringify({ pillar_score: score, force_scores: {}, answered: 1, total: 8 }) : null,
        ],
      )
    await assessment(u1, 'divsexp', 'egalitarian', at('-6 days'), at('-5 days'), 40)
    await assessment(u2, 'divsexp', 'egalitarian', at('-4 days'), at('-4 days'), 61)
    await assessment(u3, 'indrecip', 'egalitarian', at('-3 days'))
    await assessment(u4, 'status', 'hierarchical', at('-30 days'), at('-2 days'), 70)
    await assessment(u5, 'status', 'hierarchical', at('-1 day'), at('5 days'), 90)
    await assessment(u6, 'status', 'hierarchical', at('0 days'), at('1 hour'), 10)
    // LLM usage: 4 attempts in the window (one failed, two after a failover); two outside.
    const usage = (
      when: string,
      provider: string,
      model: string,
      failedOver: boolean,
      tokens: number[] | null,
    ) =>
      tx.query(
        `insert into public.llm_usage (started_at, latency_ms, user_hash, feature, provider, model, attempt,
           failed_over, outcome, error_kind, input_tokens, output_tokens)
         values (${when}, 120, 'abcdef0123456789', 'chat', $1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          provider,
          model,
          failedOver ? 2 : 1,
          failedOver,
          tokens ? 'ok' : 'error',
          tokens ? null : 'http_500',
          tokens?.[0] ?? null,
          tokens?.[1] ?? null,
        ],
      )
    await usage(`'${FROM}'::timestamptz`, 'openai', 'gpt-a', false, [100, 20])
    await usage(at('-2 days'), 'openai', 'gpt-a', false, null)
    await usage(at('-2 days'), 'anthropic', 'claude-b', true, [30, 5])
    await usage(at('-1 day'), 'openai', 'gpt-a', true, [50, 10])
    await usage(at('0 days'), 'anthropic', 'claude-b', false, [1, 1])
    await usage(`'${FROM}'::timestamptz - interval '1 ms'`, 'openai', 'gpt-a', false, [1, 1])
    // Events: page_view ×3, insight_viewed ×2, pillar_selected ×1 received in the window; two
    // received outside it; one sent late (occurred before the window, received in it: counted)
    // and one received after `to` (occurred in the window: not counted).
    const event = (owner: string, type: string, received: string, occurred = received) =>
      tx.query(
        `insert into public.events (user_id, id, type, occurred_at, received_at)
         values ($1, gen_random_uuid(), $2, ${occurred}, ${received})`,
        [owner, type],
      )
    await event(u1, 'page_view', at('-1 hour'))
    await event(u1, 'page_view', at('-2 days'))
    await event(u6, 'page_view', `'${FROM}'::timestamptz`) // exactly 7 days before: in 7d and 30d, not 1d
    await event(u1, 'insight_viewed', at('-6 days'))
    await event(u6, 'insight_viewed', `'${FROM}'::timestamptz`)
    await event(u1, 'pillar_selected', at('-3 days'), `'${FROM}'::timestamptz - interval '2 days'`)
    await event(u2, 'pillar_selected', at('1 hour'), at('-1 day'))
    await event(u1, 'page_view', at('0 days'))
    await event(u1, 'page_view', `'${FROM}'::timestamptz - interval '1 ms'`)
  })
}, DB_SETUP_TIMEOUT_MS)

const report = (query: string, who: TestUser | undefined) =>
  callApi(app, who, 'GET', `/admin/analytics${query}`)

describe('GET /admin/analytics', () => {
  test('every figure equals an independent count over the raw rows', async () => {
    const body = await expectApi(app, admin, 'GET', `/admin/analytics?from=${FROM}&to=${TO}`)
    // Independently: each user's activity times as plain rows, filtered in JS.
    const activity = await db.asService((tx) =>
      tx.query<{ user_id: string; at: Date }>(
        `select user_id, received_at as at from public.events
         union all
         select user_id, created_at from public.points_ledger where reason = 'daily_activity'`,
      ),
    )
    const active = (days: number) => {
      const end = Date.parse(TO)
      const inside = activity.filter(
        (row) => new Date(row.at).getTime() < end && new Date(row.at).getTime() >= end - days * 86_400_000,
      )
      return new Set(inside.map((row) => row.user_id)).size
    }
    expect(body.users).toEqual({
      total: await one('select count(*)::int as n from public.user_profiles where not (created_at >= $1)', [
        TO,
      ]),
      active_1d: active(1),
      active_7d: active(7),
      active_30d: active(30),
    })
    // …and those counts are the rows above (nothing else lives this far back): u1 and u4 in the
    // last day (both seen again after `to`, so last_seen_at would have counted neither), u2 and
    // u6 too in 7 days, u3 too in 30; never u5 (only seen) nor `late`.
    expect(body.users).toEqual({ total: 6, active_1d: 2, active_7d: 4, active_30d: 5 })

    const started = await one(
      'select count(*)::int as n from public.assessment_sessions where created_at between $1 and $2 and created_at <> $2',
    )
    const startedAndDone = await one(
      `select count(*)::int as n from public.assessment_sessions
        where created_at between $1 and $2 and created_at <> $2 and status = 'completed' and completed_at < $2`,
    )
    const completed = await one(
      `select count(*)::int as n from public.assessment_sessions
        where status = 'completed' and completed_at between $1 and $2 and completed_at <> $2`,
    )
    expect(body.assessments).toMatchObject({ started, completed, completion_rate: startedAndDone / started })
    expect(body.assessments).toMatchObject({ started: 4, completed: 3, completion_rate: 0.5 })
    const means = await db.asService((tx) =>
      tx.query<{ pillar_id: string; mode: string; completed: number; mean_score: number }>(
        `select pillar_id, mode, count(*)::int as completed,
            (sum((results->>'pillar_score')::float8) / count(*))::float8 as mean_score
           from public.assessment_sessions
          where status = 'completed' and completed_at >= $1 and completed_at < $2
          group by 1, 2 order by 2, 1`,
        [FROM, TO],
      ),
    )
    expect(body.assessments.by_pillar).toEqual(means)
    expect(body.assessments.by_pillar).toEqual([
      { pillar_id: 'divsexp', mode: 'egalitarian', completed: 2, mean_score: 50.5 },
      { pillar_id: 'status', mode: 'hierarchical', completed: 1, mean_score: 70 },
    ])

    const inWindow = `started_at >= $1 and started_at < $2`
    expect(body.ai.requests).toBe(
      await one(`select count(*)::int as n from public.llm_usage where ${inWindow}`),
    )
    expect(body.ai.failovers).toBe(
      await one(`select count(*)::int as n from public.llm_usage where ${inWindow} and attempt > 1`),
    )
    for (const row of body.ai.by_provider as Record<string, unknown>[]) {
      const filter = `${inWindow} and provider = $3 and model = $4`
      const params = [FROM, TO, row.provider, row.model]
      expect(row).toEqual({
        provider: row.provider,
        model: row.model,
        requests: await one(`select count(*)::int as n from public.llm_usage where ${filter}`, params),
        input_tokens: await one(
          `select coalesce(sum(input_tokens), 0)::int as n from public.llm_usage where ${filter}`,
          params,
        ),
        output_tokens: await one(
          `select coalesce(sum(output_tokens), 0)::int as n from public.llm_usage where ${filter}`,
          params,
        ),
      })
    }
    expect(body.ai).toEqual({
      requests: 4,
      failovers: 2,
      by_provider: [
        { provider: 'openai', model: 'gpt-a', requests: 3, input_tokens: 150, output_tokens: 30 },
        { provider: 'anthropic', model: 'claude-b', requests: 1, input_tokens: 30, output_tokens: 5 },
      ],
    })

    for (const row of body.events.by_type as { type: string; count: number }[]) {
      expect(row.count).toBe(
        await one(
          'select count(*)::int as n from public.events where type = $3 and received_at >= $1 and received_at < $2',
          [FROM, TO, row.type],
        ),
      )
    }
    expect(body.events.by_type).toEqual([
      { type: 'page_view', count: 3 },
      { type: 'insight_viewed', count: 2 },
      { type: 'pillar_selected', count: 1 },
    ])
  })

  test('defaults: to is now, from 30 days before it; from alone is not needed', async () => {
    const explicit = await expectApi(
      app,
      admin,
      'GET',
      `/admin/analytics?from=${new Date(Date.parse(TO) - 30 * 86_400_000).toISOString()}&to=${TO}`,
    )
    expect(await expectApi(app, admin, 'GET', '/admin/analytics')).toEqual(explicit)
    expect(await expectApi(app, admin, 'GET', `/admin/analytics?to=${TO}`)).toEqual(explicit)
    // 30 days back reaches u4's assessment, started 30 days before `to`: 5 started, not 4.
    expect(explicit.assessments.started).toBe(5)
  })

  test('a past window never changes: a late event (occurred in it, received now) adds nothing', async () => {
    const query = `/admin/analytics?from=${FROM}&to=${TO}`
    const before = await expectApi(app, admin, 'GET', query)
    const sender = await newUser()
    // The app's clock is at TO: an event dated an hour before it is within the API's 7 days.
    const occurred = new Date(Date.parse(TO) - 3_600_000).toISOString()
    await expectApi(
      app,
      sender,
      'POST',
      '/events',
      { events: [{ id: crypto.randomUUID(), type: 'page_view', occurred_at: occurred }] },
      202,
    )
    // Counted by occurred_at (the client's clock), page_view would now be 4 here.
    expect(await expectApi(app, admin, 'GET', query)).toEqual(before)
  })

  test('an empty window answers zeros and empty lists', async () => {
    const body = await expectApi(app, admin, 'GET', '/admin/analytics?from=2019-06-01&to=2019-06-02')
    expect(body).toMatchObject({
      assessments: { started: 0, completed: 0, completion_rate: 0, by_pillar: [] },
      ai: { requests: 0, failovers: 0, by_provider: [] },
      events: { by_type: [] },
    })
  })

  test('admins only: a user gets 403, an anonymous caller 401', async () => {
    expect((await report('', user)).status).toBe(403)
    expect((await report('', undefined)).status).toBe(401)
  })

  test('bad windows are a 400 VALIDATION_ERROR: inverted, empty, too long, not a date', async () => {
    for (const query of [
      `?from=${TO}&to=${FROM}`,
      `?from=${FROM}&to=${FROM}`,
      '?from=2019-01-01&to=2020-01-03',
      '?from=yesterday',
      '?to=2020-13-01',
      `?from=${TO}`, // not before the default `to` (now)
      // Outside the years 1970..9999 UTC (these were 500s: Postgres refuses year 0 and +010000-…).
      '?from=0000-01-01&to=0000-06-01',
      '?from=9999-06-01T00:00:00Z&to=9999-12-31T23:00:00-05:00',
      '?from=1969-12-31&to=1970-01-02',
      '?from=0001-01-01&to=0001-06-01',
    ]) {
      const answer = await report(query, admin)
      expect({ query, status: answer.status, code: answer.body.error?.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_ERROR',
      })
    }
    // The longest window allowed still answers; so do the first and last days of the range (a
    // `to` near 1970 with no `from` starts the window at 1970, not 30 days before).
    for (const query of [
      '?from=2019-01-01T00:00:00Z&to=2020-01-02T00:00:00Z',
      '?from=9999-06-01T00:00:00Z&to=9999-12-31T23:00:00-00:59',
      '?from=1970-01-01&to=1970-01-02',
      '?to=1970-01-05',
    ]) {
      expect({ query, status: (await report(query, admin)).status }).toEqual({ query, status: 200 })
    }
  })
})
