import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi, expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { attempt, withoutRls } from '@tests/helpers/sql'
import type { AuthUser } from '@/lib/auth/types'
import type { Database } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import { GamificationService, LevelCatalog } from '@/services/progress/gamification'
import { LeaderboardService, rankIn } from '@/services/progress/leaderboard'
import { LedgerStore } from '@/services/progress/ledger-store'

// Leaderboard privacy: globally only users who opted in; within a team every member, seen by
// members only; display names, never e-mail. Then each lock alone: RLS as another user, and the
// services' own filters over a connection without RLS.
let t: TestApp
let db: Database
let ann: TestUser // opted in, named
let bea: TestUser // not opted in, named
let cy: TestUser // opted in, no display name
let dan: TestUser // opted in, in another team
let teamId: string
let otherTeamId: string
// Far above anything other test files award, so these users lead the global board.
const BASE = 50_000_000

const award = (user: TestUser, points: number) =>
  db.asService((tx) =>
    tx.query(`select public._progress_award($1, $2, 'streak_bonus', $3, now())`, [
      user.id,
      points,
      `test:${crypto.randomUUID()}`,
    ]),
  )

const authUser = (user: TestUser): AuthUser =>
  ({
    id: user.id,
    email: user.email,
    role: 'user',
    claims: { sub: user.id, role: 'authenticated' },
  }) as AuthUser

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  db = t.services.db
  ;[ann, bea, cy, dan] = await Promise.all([newUser(), newUser(), newUser(), newUser()])
  await expectApi(t, ann, 'PATCH', '/users/me', { display_name: 'Ann', leaderboard_opt_in: true })
  await expectApi(t, bea, 'PATCH', '/users/me', { display_name: 'Bea' })
  await expectApi(t, cy, 'PATCH', '/users/me', { leaderboard_opt_in: true })
  await expectApi(t, dan, 'PATCH', '/users/me', { display_name: 'Dan', leaderboard_opt_in: true })
  // A profile with no name (made on first sight from an e-mail-less token, say): shown as null.
  await db.asService((tx) =>
    tx.query('update public.user_profiles set display_name = null where id = $1', [cy.id]),
  )
  // Each PATCH above was the day's activity (5).
  await award(ann, BASE + 300)
  await award(bea, BASE + 900) // the most points, but not opted in
  await award(cy, BASE + 300) // ties with Ann
  await award(dan, BASE + 100)
  const { team } = await expectApi(t, ann, 'POST', '/teams', { name: 'Board team' }, 201)
  teamId = team.id
  const { code } = await expectApi(t, ann, 'POST', `/teams/${teamId}/invite-code`)
  await expectApi(t, bea, 'POST', '/teams/join', { code })
  await expectApi(t, cy, 'POST', '/teams/join', { code })
  otherTeamId = (await expectApi(t, dan, 'POST', '/teams', { name: 'Other team' }, 201)).team.id
}, DB_SETUP_TIMEOUT_MS)

describe('global board', () => {
  test('only users who opted in, ranked with shared ranks, display names only', async () => {
    const body = await expectApi(t, ann, 'GET', '/gamification/leaderboard?limit=100')
    const ours = (body.data as Json[]).filter((r) => [ann.id, bea.id, cy.id, dan.id].includes(r.user_id))
    const [first, second] = [ann.id, cy.id].sort()
    expect(ours).toEqual([
      {
        rank: 1,
        user_id: first,
        display_name: first === ann.id ? 'Ann' : null,
        points: BASE + 305,
        level: 11,
      },
      {
        rank: 1,
        user_id: second,
        display_name: second === ann.id ? 'Ann' : null,
        points: BASE + 305,
        level: 11,
      },
      { rank: 3, user_id: dan.id, display_name: 'Dan', points: BASE + 105, level: 11 },
    ])
    expect(body.data.slice(0, 3)).toEqual(ours)
    expect(body.me).toEqual({ rank: 1, points: BASE + 305 })
    expect(JSON.stringify(body).includes('@')).toBe(false)
  })

  test('a user who did not opt in is on no global board and has no place on it; opting in puts them there', async () => {
    const body = await expectApi(t, bea, 'GET', '/gamification/leaderboard')
    expect(body.data.some((r: Json) => r.user_id === bea.id)).toBe(false)
    expect(body.me).toBeNull()
    await expectApi(t, dan, 'PATCH', '/users/me', { leaderboard_opt_in: false })
    const after = await expectApi(t, dan, 'GET', '/gamification/leaderboard?limit=100')
    expect(after.data.some((r: Json) => r.user_id === dan.id)).toBe(false)
    expect(after.me).toBeNull()
    await expectApi(t, dan, 'PATCH', '/users/me', { leaderboard_opt_in: true })
    expect((await expectApi(t, dan, 'GET', '/gamification/leaderboard')).me).toEqual({
      rank: 3,
      points: BASE + 105,
    })
  })

  test('limit is 1..100; bad scope or a team scope without team_id is a 400', async () => {
    expect((await expectApi(t, ann, 'GET', '/gamification/leaderboard?limit=1')).data).toHaveLength(1)
    for (const query of ['limit=101', 'limit=0', 'scope=world', 'scope=team', 'scope=team&team_id=nope']) {
      const answer = await callApi(t, ann, 'GET', `/gamification/leaderboard?${query}`)
      expect({ query, status: answer.status, code: answer.body.error.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_ERROR',
      })
    }
    const missing = await callApi(t, ann, 'GET', '/gamification/leaderboard?scope=team')
    expect(missing.body.error.details).toEqual([
      { field: 'query.team_id', message: 'Required when scope is team' },
    ])
    expect((await callApi(t, undefined, 'GET', '/gamification/leaderboard')).status).toBe(401)
  })
})

describe('the caller’s rank beyond the exact count', () => {
  test('read off the snapshot of totals, it equals the exact count (ties share a rank)', async () => {
    const store = new LedgerStore(db)
    const exact = new LeaderboardService(store, new LevelCatalog(store))
    const approx = new LeaderboardService(store, new LevelCatalog(store), { exactRanks: 1 })
    for (const user of [ann, cy, dan]) {
      const [a, b] = await Promise.all([exact.global(authUser(user), 5), approx.global(authUser(user), 5)])
      expect({ user: user.id, me: b.me }).toEqual({ user: user.id, me: a.me })
    }
    // Dan is third: with exactRanks 1 the count stops at 1 and the snapshot gives the rest.
    expect((await approx.global(authUser(dan), 5)).me).toEqual({ rank: 3, points: BASE + 105 })
    const snapshot = { points: [90, 50, 10], ahead: [0, 2, 5], total: 6 }
    expect([100, 90, 89, 50, 10, 9, 0].map((p) => rankIn(snapshot, p))).toEqual([1, 1, 3, 3, 6, 7, 7])
  })
})

describe('team board', () => {
  test('every member, opted in or not, for members; ranked; no e-mail', async () => {
    for (const viewer of [ann, bea, cy]) {
      const body = await expectApi(t, viewer, 'GET', `/gamification/leaderboard?scope=team&team_id=${teamId}`)
      const [first, second] = [ann.id, cy.id].sort()
      expect(body.data.map((r: Json) => [r.rank, r.user_id, r.points])).toEqual([
        [1, bea.id, BASE + 905],
        [2, first, BASE + 305],
        [2, second, BASE + 305],
      ])
      expect(body.data[0].display_name).toBe('Bea')
      expect(body.me).toEqual(
        viewer === bea ? { rank: 1, points: BASE + 905 } : { rank: 2, points: BASE + 305 },
      )
      expect(JSON.stringify(body).includes('@')).toBe(false)
    }
    const top = await expectApi(
      t,
      cy,
      'GET',
      `/gamification/leaderboard?scope=team&team_id=${teamId}&limit=1`,
    )
    expect(top.data).toHaveLength(1)
    expect(top.me).toEqual({ rank: 2, points: BASE + 305 }) // outside the page, still placed
  })

  test('another team’s board, or a team that does not exist, is the same 404', async () => {
    const other = await callApi(t, ann, 'GET', `/gamification/leaderboard?scope=team&team_id=${otherTeamId}`)
    const none = await callApi(
      t,
      ann,
      'GET',
      `/gamification/leaderboard?scope=team&team_id=${crypto.randomUUID()}`,
    )
    expect([other.status, none.status]).toEqual([404, 404])
    expect(other.body.error.message).toBe(none.body.error.message)
    expect(other.body.error.code).toBe('NOT_FOUND')
  })
})

describe('names derived from the e-mail are never shown', () => {
  test('a profile still named after its e-mail’s local part is null on both boards, until the user names themselves', async () => {
    const eve = await newUser()
    const local = eve.email.split('@')[0] ?? ''
    await expectApi(t, eve, 'PATCH', '/users/me', { leaderboard_opt_in: true })
    await award(eve, BASE - 1_000) // below the others here, so their ranks stay
    // Her own team, so the other team tests' members stay as they are; Dan looks at it.
    const { team } = await expectApi(t, eve, 'POST', '/teams', { name: 'Eve team' }, 201)
    const { code } = await expectApi(t, eve, 'POST', `/teams/${team.id}/invite-code`)
    await expectApi(t, dan, 'POST', '/teams/join', { code })
    const nameOf = async (name: string | null) => {
      // The profile as AuthService made it (or as a test sets it), read straight from the table.
      if (name !== null) {
        await db.asService((tx) =>
          tx.query('update public.user_profiles set display_name = $2 where id = $1', [eve.id, name]),
        )
      }
      const bodies = [
        await expectApi(t, eve, 'GET', '/gamification/leaderboard?limit=100'),
        await expectApi(t, dan, 'GET', '/gamification/leaderboard?limit=100'),
        await expectApi(t, dan, 'GET', `/gamification/leaderboard?scope=team&team_id=${team.id}`),
      ]
      const names = bodies.map((b) => (b.data as Json[]).find((r) => r.user_id === eve.id)?.display_name)
      const text = JSON.stringify(bodies).toLowerCase()
      return { names, at: text.includes('@'), local: text.includes(local.toLowerCase()) }
    }
    // Precondition: the profile starts with the local part as its name (what a naive board shows).
    const [profile] = await db.asService((tx) =>
      tx.query<{ display_name: string }>('select display_name from public.user_profiles where id = $1', [
        eve.id,
      ]),
    )
    expect(profile?.display_name).toBe(local)
    const hidden = { names: [null, null, null], at: false, local: false }
    expect(await nameOf(null)).toEqual(hidden)
    // Other edits of the profile choose no name.
    await expectApi(t, eve, 'PATCH', '/users/me', { bio: 'hello', leaderboard_opt_in: true })
    expect(await nameOf(null)).toEqual(hidden)
    await expectApi(t, eve, 'PATCH', '/users/me', { display_name: 'Ada' })
    expect(await nameOf(null)).toEqual({ names: ['Ada', 'Ada', 'Ada'], at: false, local: false })
    // A name the user types is theirs to show, even one like their address's local part.
    await expectApi(t, eve, 'PATCH', '/users/me', { display_name: local.toUpperCase() })
    const chosen = local.toUpperCase()
    expect((await nameOf(null)).names).toEqual([chosen, chosen, chosen])
  })
})

describe('each lock alone', () => {
  test('RLS as another user: own ledger, summary and badges only; writes refused (42501)', async () => {
    const seen = await db.asUser({ sub: bea.id }, async (tx) => ({
      ledger: await tx.query<{ user_id: string }>('select distinct user_id from public.points_ledger'),
      summary: await tx.query<{ user_id: string }>('select user_id from public.points_summary'),
      badges: await tx.query<{ user_id: string }>('select distinct user_id from public.user_badges'),
      catalog: (await tx.query('select key from public.badges')).length,
      writes: [
        await attempt(tx, 'update public.points_summary set points = 0 where user_id = $1', [ann.id]),
        await attempt(tx, 'delete from public.user_badges where user_id = $1', [ann.id]),
        await attempt(tx, `update public.levels set threshold = 0`),
      ],
      team: await attempt(tx, 'select * from public.team_leaderboard($1)', [otherTeamId]),
    }))
    expect(seen).toEqual({
      ledger: [{ user_id: bea.id }],
      summary: [{ user_id: bea.id }],
      badges: [{ user_id: bea.id }],
      catalog: 13,
      writes: ['42501', '42501', '42501'],
      team: 'PT404',
    })
  })

  test('the services’ own filters over a connection without RLS', async () => {
    const bare = withoutRls(db)
    const store = new LedgerStore(bare)
    const levels = new LevelCatalog(store)
    const board = new LeaderboardService(store, levels)
    const mine = await new GamificationService(store, levels, () => new Date()).me(authUser(bea))
    expect(mine.points).toBe(BASE + 905)
    // Every recent entry is Bea's own (Ann's award is bigger in count, none leaks in).
    const [count] = await db.asService((tx) =>
      tx.query<{ n: number }>('select count(*)::int as n from public.points_ledger where user_id = $1', [
        bea.id,
      ]),
    )
    expect(mine.recent).toHaveLength(Math.min(10, count?.n ?? 0))
    const error = await board.team(authUser(ann), otherTeamId, 10).catch((e: unknown) => e)
    expect((error as { code?: string }).code).toBe('NOT_FOUND')
    const global = await board.global(authUser(bea), 100)
    expect(global.data.some((r) => r.user_id === bea.id)).toBe(false)
    expect(global.me).toBeNull()
    // What the team function checks is the caller, not the argument: over the bare connection too.
    const refused = await bare
      .asUser({ sub: dan.id }, (tx) => tx.query('select * from public.team_leaderboard($1)', [teamId]))
      .catch((e: unknown) => sqlState(e))
    expect(refused).toBe('PT404')
  })
})
