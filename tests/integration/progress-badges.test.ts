import { beforeAll, describe, expect, test } from 'bun:test'
import { expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { createAuthUser, DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { Database } from '@/lib/db/database'
import { levelOf } from '@/services/progress/gamification'
import type { LevelRow } from '@/services/progress/ledger-store'

// Each badge rule at its threshold and one below, the levels at their boundaries, and the team
// round award — through the award functions the server calls (as the service role).
let t: TestApp
let db: Database
const at = '2032-02-01T09:00:00.000Z'

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH, { clock: () => new Date(at) })
  db = t.services.db
}, DB_SETUP_TIMEOUT_MS)

const badgesOf = async (userId: string) =>
  (
    await db.asService((tx) =>
      tx.query<{ badge_key: string }>(
        'select badge_key from public.user_badges where user_id = $1 order by 1',
        [userId],
      ),
    )
  ).map((r) => r.badge_key)

const pointsOf = async (userId: string) =>
  (
    await db.asService((tx) =>
      tx.query<{ points: number }>('select points from public.points_summary where user_id = $1', [userId]),
    )
  )[0]?.points ?? 0

/**
 * A completed assessment with this overall score, every question answered (or only the first),
 * awarded as the server would.
 */
async function completed(
  userId: string,
  pillar: string,
  mode: string,
  score: number,
  answered: 'all' | 'one' = 'all',
): Promise<void> {
  await db.asService(async (tx) => {
    const [row] = await tx.query<{ id: string }>(
      `insert into public.assessment_sessions (user_id, pillar_id, mode, status, responses, results, completed_at)
       values ($1, $2, $3, 'completed',
               (select jsonb_object_agg(q.id, jsonb_build_object('answer', 3)) from public.assessment_questions q
                 where q.pillar_id = $2 and ($5 = 'all' or q.position = 1)),
               $4::text::jsonb, now()) returning id`,
      [
        userId,
        pillar,
        mode,
        JSON.stringify({ pillar_score: score, force_scores: {}, answered: 8, total: 8 }),
        answered,
      ],
    )
    await tx.query('select public.progress_assessment_completed($1, $2, $3)', [userId, row?.id, at])
  })
}

async function newRound(owner: TestUser, teamId: string): Promise<string> {
  const body = { name: `R ${crypto.randomUUID().slice(0, 8)}`, pillar_id: 'popularity', mode: 'egalitarian' }
  return (await expectApi(t, owner, 'POST', `/teams/${teamId}/rounds`, body, 201)).round.id
}

/** Joins the round and completes its assessment, answering every question or only the first. */
async function takePart(user: TestUser, teamId: string, roundId: string, answered: 'all' | 'one') {
  const { assessment } = await expectApi(t, user, 'POST', `/teams/${teamId}/rounds/${roundId}/participate`)
  const { questions } = await expectApi(t, user, 'GET', `/assessments/${assessment.id}/questions`)
  for (const q of (questions as { id: string }[]).slice(0, answered === 'all' ? undefined : 1)) {
    await expectApi(t, user, 'POST', `/assessments/${assessment.id}/answers`, {
      question_id: q.id,
      answer: 3,
    })
  }
  await expectApi(t, user, 'POST', `/assessments/${assessment.id}/complete`)
}

const award = (userId: string, points: number) =>
  db.asService((tx) =>
    tx.query(`select public._progress_award($1, $2, 'streak_bonus', $3, $4)`, [
      userId,
      points,
      `test:${crypto.randomUUID()}`,
      at,
    ]),
  )

describe('badge rules at their thresholds', () => {
  test('pillar score ≥ 30, 60, 85 (the assessment’s overall score); just below earns nothing', async () => {
    const { id } = await createAuthUser(db)
    const steps: [number, string[]][] = [
      [29.99, []],
      [30, ['pillar_score_30']],
      [59.99, ['pillar_score_30']],
      [60, ['pillar_score_30', 'pillar_score_60']],
      [84.99, ['pillar_score_30', 'pillar_score_60']],
      [85, ['pillar_score_30', 'pillar_score_60', 'pillar_score_85']],
    ]
    for (const [score, expected] of steps) {
      await completed(id, 'divsexp', 'egalitarian', score)
      expect({ score, badges: await badgesOf(id) }).toEqual({ score, badges: expected })
    }
  })

  test('streaks of 3, 7, 14 and 30 days: each on its day, not the day before', async () => {
    const { id } = await createAuthUser(db)
    const earned: Record<number, string[]> = {}
    for (let day = 1; day <= 30; day++) {
      const when = new Date(Date.parse('2032-03-01T12:00:00Z') + (day - 1) * 86_400_000).toISOString()
      await db.asService((tx) => tx.query('select public.progress_note_activity($1, $2)', [id, when]))
      earned[day] = (await badgesOf(id)).filter((b) => b.startsWith('streak_'))
    }
    expect([
      earned[2],
      earned[3],
      earned[6],
      earned[7],
      earned[13],
      earned[14],
      earned[29],
      earned[30],
    ]).toEqual([
      [],
      ['streak_3'],
      ['streak_3'],
      ['streak_3', 'streak_7'],
      ['streak_3', 'streak_7'],
      ['streak_14', 'streak_3', 'streak_7'],
      ['streak_14', 'streak_3', 'streak_7'],
      ['streak_14', 'streak_3', 'streak_30', 'streak_7'],
    ])
  })

  test('all five pillars of a mode: four are not enough, the fifth earns that mode’s badge only', async () => {
    const { id } = await createAuthUser(db)
    const pillars = ['divsexp', 'indrecip', 'popularity', 'grpprosp']
    for (const pillar of pillars) await completed(id, pillar, 'egalitarian', 10)
    await completed(id, 'divsexp', 'egalitarian', 10) // a repeat is not a new pillar
    await completed(id, 'status', 'hierarchical', 10)
    const modeBadges = async () => (await badgesOf(id)).filter((b) => b.startsWith('all_pillars_'))
    expect(await modeBadges()).toEqual([])
    await completed(id, 'outresp', 'egalitarian', 10)
    expect(await modeBadges()).toEqual(['all_pillars_egalitarian'])
  })

  test('points 500, 1,000, 5,000: at the total, not one below', async () => {
    const { id } = await createAuthUser(db)
    const seen: [number, string[]][] = []
    for (const step of [499, 1, 499, 1, 3_999, 1]) {
      await award(id, step)
      seen.push([await pointsOf(id), await badgesOf(id)])
    }
    expect(seen).toEqual([
      [499, []],
      [500, ['points_500']],
      [999, ['points_500']],
      [1_000, ['points_1000', 'points_500']],
      [4_999, ['points_1000', 'points_500']],
      [5_000, ['points_1000', 'points_500', 'points_5000']],
    ])
  })

  test('partly answered assessments earn no badge, however high their score', async () => {
    const { id } = await createAuthUser(db)
    for (const pillar of ['divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp']) {
      await completed(id, pillar, 'egalitarian', 100, 'one')
    }
    expect({ badges: await badgesOf(id), points: await pointsOf(id) }).toEqual({ badges: [], points: 5 })
    await completed(id, 'divsexp', 'egalitarian', 100) // the same, fully answered
    expect(await badgesOf(id)).toEqual(['pillar_score_30', 'pillar_score_60', 'pillar_score_85'])
  })

  test('team rounds pay 30 and the badge only when published, to members still in the team who answered fully', async () => {
    const [owner, a, b, partial, idle, leaver] = await Promise.all([
      newUser(),
      newUser(),
      newUser(),
      newUser(),
      newUser(),
      newUser(),
    ])
    const { team } = await expectApi(t, owner, 'POST', '/teams', { name: 'Round badge team' }, 201)
    const { code } = await expectApi(t, owner, 'POST', `/teams/${team.id}/invite-code`)
    for (const u of [a, b, partial, idle, leaver]) await expectApi(t, u, 'POST', '/teams/join', { code })
    const round = await newRound(owner, team.id)
    for (const u of [owner, a, b, leaver]) await takePart(u, team.id, round, 'all')
    await takePart(partial, team.id, round, 'one')
    await expectApi(t, idle, 'POST', `/teams/${team.id}/rounds/${round}/participate`)
    await expectApi(t, leaver, 'DELETE', `/teams/${team.id}/members/${leaver.id}`, undefined, 204)
    const everyone = [owner, a, b, partial, idle, leaver]
    const before = await Promise.all(everyone.map((u) => pointsOf(u.id)))
    await expectApi(t, owner, 'POST', `/teams/${team.id}/rounds/${round}/close`)
    const results = await expectApi(t, owner, 'GET', `/teams/${team.id}/rounds/${round}/results`)
    expect(results.visible).toBe(true)
    const after = await Promise.all(everyone.map((u) => pointsOf(u.id)))
    expect(after.map((p, i) => p - (before[i] ?? 0))).toEqual([30, 30, 30, 0, 0, 0])
    expect((await badgesOf(a.id)).includes('first_team_round')).toBe(true)
    for (const u of [partial, idle, leaver])
      expect((await badgesOf(u.id)).includes('first_team_round')).toBe(false)
    // Freezing again, or the award run again, changes nothing.
    await db.asService((tx) => tx.query('select public.progress_team_round_completed($1, now())', [round]))
    expect(await Promise.all(everyone.map((u) => pointsOf(u.id)))).toEqual(after)
  })

  test('a round whose results stay hidden (below the minimum, e.g. a team of one) pays nothing', async () => {
    const solo = await newUser()
    const { team } = await expectApi(t, solo, 'POST', '/teams', { name: 'Solo team' }, 201)
    const before = await pointsOf(solo.id)
    for (let i = 0; i < 3; i++) {
      const round = await newRound(solo, team.id)
      await takePart(solo, team.id, round, 'all')
      await expectApi(t, solo, 'POST', `/teams/${team.id}/rounds/${round}/close`)
      const results = await expectApi(t, solo, 'GET', `/teams/${team.id}/rounds/${round}/results`)
      expect(results.visible).toBe(false)
    }
    const rounds = await db.asService((tx) =>
      tx.query(`select 1 from public.points_ledger where user_id = $1 and reason = 'team_round_completed'`, [
        solo.id,
      ]),
    )
    expect(rounds).toEqual([])
    // The three assessments themselves: 100 + 50 first in the mode, then one repeat of the day.
    expect((await pointsOf(solo.id)) - before).toBe(100 + 50 + 50)
    expect((await badgesOf(solo.id)).includes('first_team_round')).toBe(false)
  })

  test('/badges: the catalog with rarity = holders / users the server has seen', async () => {
    const user: TestUser = await newUser()
    const { badges } = await expectApi(t, user, 'GET', '/gamification/badges')
    const [counts] = await db.asService((tx) =>
      tx.query<{ users: number; holders: Record<string, number> }>(
        `select (select count(*)::int from public.user_profiles) as users,
                (select coalesce(jsonb_object_agg(badge_key, n), '{}') from
                  (select badge_key, count(*)::int as n from public.user_badges group by 1) h) as holders`,
      ),
    )
    expect(badges).toHaveLength(13)
    for (const badge of badges as Json[]) {
      const expected =
        Math.round(((counts?.holders[badge.key] ?? 0) / (counts?.users ?? 1)) * 10_000) / 10_000
      expect({ key: badge.key, rarity: badge.rarity }).toEqual({ key: badge.key, rarity: expected })
    }
    expect(badges.some((b: Json) => b.rarity > 0)).toBe(true)
  })
})

describe('levels: 11 thresholds from 0 to 5,000', () => {
  test('each boundary exactly, and one point below it', async () => {
    const levels = await db.asService((tx) =>
      tx.query<LevelRow>('select number, threshold, title from public.levels order by threshold'),
    )
    expect(levels).toHaveLength(11)
    expect([levels[0]?.threshold, levels.at(-1)?.threshold]).toEqual([0, 5_000])
    for (const [i, level] of levels.entries()) {
      expect(levelOf(levels, level.threshold)).toEqual({
        number: level.number,
        title: level.title,
        next_at: levels[i + 1]?.threshold ?? null,
      })
      if (i > 0) expect(levelOf(levels, level.threshold - 1).number).toBe(levels[i - 1]?.number ?? 0)
    }
    expect(levelOf(levels, 1_000_000)).toEqual({ number: 11, title: 'Group Dynamics Master', next_at: null })
  })

  test('GET /gamification/me shows the level of the total (99 → 1, 100 → 2)', async () => {
    const user = await newUser()
    await expectApi(t, user, 'GET', '/users/me')
    await award(user.id, 99)
    expect((await expectApi(t, user, 'GET', '/gamification/me')).level).toEqual({
      number: 1,
      title: 'Newcomer',
      next_at: 100,
    })
    await award(user.id, 1)
    expect((await expectApi(t, user, 'GET', '/gamification/me')).level).toEqual({
      number: 2,
      title: 'Observer',
      next_at: 250,
    })
  })
})
