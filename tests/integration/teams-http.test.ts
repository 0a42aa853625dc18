import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { callApi, expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { ErrorBody } from '@/lib/errors/api-error'

// The teams and rounds API end to end, in process over the shared PGlite: the lifecycle, the
// privacy rule on results, every route refused to a non-member (404) and to a plain member
// attempting an owner/admin action (403) with nothing changed, invitations, and the races.

const MAX_MEMBERS = 12
let t: TestApp

beforeAll(async () => {
  t = await testApp({ ...LOCAL_AUTH, TEAM_MAX_MEMBERS: String(MAX_MEMBERS) })
}, DB_SETUP_TIMEOUT_MS)

// The settings row is shared by every test on this database: put the default back.
afterAll(() => t.services.db.asService((tx) => tx.query('update public.team_settings set max_members = 200')))

const call = (user: TestUser | undefined, method: string, path: string, body?: unknown) =>
  callApi(t, user, method, path, body)
const ok = (user: TestUser, method: string, path: string, body?: unknown, status = 200) =>
  expectApi(t, user, method, path, body, status)

function expectError(
  response: { status: number; body: Json },
  status: number,
  code: ErrorBody['error']['code'],
) {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code })
}

/** Creates a team owned by `owner` with `others` joined by code. */
async function team(owner: TestUser, ...others: TestUser[]) {
  const { team } = await ok(owner, 'POST', '/teams', { name: 'Crew', description: 'We ship' }, 201)
  const { code } = await ok(owner, 'POST', `/teams/${team.id}/invite-code`)
  for (const other of others) await ok(other, 'POST', '/teams/join', { code })
  return { id: team.id as string, code: code as string }
}

/** Opens a round (as an owner or admin) and returns it. */
async function openRound(user: TestUser, teamId: string, name: string, pillar_id: string, mode: string) {
  return (await ok(user, 'POST', `/teams/${teamId}/rounds`, { name, pillar_id, mode }, 201)).round as Json
}

/** Answers every question of the member's round assessment with `answer(force_key, i)` and completes it. */
async function complete(
  user: TestUser,
  teamId: string,
  roundId: string,
  answer: (force: string, i: number) => number,
) {
  const { assessment } = await ok(user, 'POST', `/teams/${teamId}/rounds/${roundId}/participate`)
  const { questions } = await ok(user, 'GET', `/assessments/${assessment.id}/questions`)
  // All at once: the answer function is atomic, and the suite stays quick.
  await Promise.all(
    (questions as { id: string; force_key: string }[]).map((q, i) =>
      ok(user, 'POST', `/assessments/${assessment.id}/answers`, {
        question_id: q.id,
        answer: answer(q.force_key, i),
      }),
    ),
  )
  return (await ok(user, 'POST', `/assessments/${assessment.id}/complete`)).assessment as Json
}

const round2 = (x: number) => Math.round(x * 100) / 100
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const sdPop = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)))

describe('teams', () => {
  test('create, read, list, rename; members with display names; roles; transfer; leave; delete', async () => {
    const [owner, ana, ben] = await Promise.all([newUser(), newUser(), newUser()])
    const { id } = await team(owner, ana, ben)
    const got = await ok(ana, 'GET', `/teams/${id}`)
    expect(got.team).toMatchObject({
      id,
      name: 'Crew',
      owner_id: owner.id,
      member_count: 3,
      my_role: 'member',
    })
    expect((await ok(owner, 'GET', '/teams')).data.map((x: Json) => x.id)).toContain(id)

    await t.services.db.asService((tx) =>
      tx.query(`update public.user_profiles set display_name = 'Ana' where id = $1`, [ana.id]),
    )
    const members = await ok(ben, 'GET', `/teams/${id}/members?limit=2`)
    expect(members.data.map((m: Json) => m.role)).toEqual(['owner', 'member'])
    expect(members.data[1]).toMatchObject({ user_id: ana.id, display_name: 'Ana' })
    const rest = await ok(ben, 'GET', `/teams/${id}/members?limit=2&cursor=${members.next_cursor}`)
    expect(rest.data.map((m: Json) => m.user_id)).toEqual([ben.id])
    expect(rest.next_cursor).toBeNull()

    expect((await ok(owner, 'PATCH', `/teams/${id}/members/${ana.id}`, { role: 'admin' })).member.role).toBe(
      'admin',
    )
    expect((await ok(ana, 'PATCH', `/teams/${id}`, { name: 'Renamed' })).team.name).toBe('Renamed')
    // The owner can neither leave nor be removed; the admin cannot demote them either.
    expectError(await call(owner, 'DELETE', `/teams/${id}/members/${owner.id}`), 409, 'CONFLICT')
    expectError(await call(ana, 'DELETE', `/teams/${id}/members/${owner.id}`), 409, 'CONFLICT')
    expectError(
      await call(owner, 'PATCH', `/teams/${id}/members/${owner.id}`, { role: 'member' }),
      409,
      'CONFLICT',
    )

    const transferred = await ok(owner, 'POST', `/teams/${id}/transfer`, { user_id: ana.id })
    expect(transferred.team).toMatchObject({ owner_id: ana.id, my_role: 'admin' })
    expect((await ok(ana, 'GET', `/teams/${id}`)).team.my_role).toBe('owner')

    // Leaving: gone at once, answered exactly like a team that never existed.
    expect((await call(ben, 'DELETE', `/teams/${id}/members/${ben.id}`)).status).toBe(204)
    const gone = await call(ben, 'GET', `/teams/${id}`)
    const missing = await call(ben, 'GET', `/teams/${crypto.randomUUID()}`)
    expectError(gone, 404, 'NOT_FOUND')
    expect(gone.body.error.message).toBe(missing.body.error.message)

    expectError(await call(owner, 'DELETE', `/teams/${id}`), 403, 'FORBIDDEN')
    expect((await call(ana, 'DELETE', `/teams/${id}`)).status).toBe(204)
    expectError(await call(owner, 'GET', `/teams/${id}`), 404, 'NOT_FOUND')
  })

  test('invite codes: case and dashes forgiven, joining twice is the same answer, rotation kills the old code', async () => {
    const [owner, joiner, late] = await Promise.all([newUser(), newUser(), newUser()])
    const { id, code } = await team(owner)
    expect(code).toMatch(/^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$/)
    const typed = `${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`
    const first = await ok(joiner, 'POST', '/teams/join', { code: typed })
    const again = await ok(joiner, 'POST', '/teams/join', { code })
    expect(again.team).toEqual(first.team)
    expect(first.team.member_count).toBe(2)
    const { code: next } = await ok(owner, 'POST', `/teams/${id}/invite-code`)
    expect(next).not.toBe(code)
    expectError(await call(late, 'POST', '/teams/join', { code }), 404, 'NOT_FOUND')
    expectError(await call(late, 'POST', '/teams/join', { code: 'short' }), 400, 'VALIDATION_ERROR')
    // Served as POST /teams/{id} (for the router's sake): any other id is an unknown route.
    expectError(await call(undefined, 'POST', `/teams/${id}`, { code }), 404, 'NOT_FOUND')
    const spec = await (await t.request('/openapi.json')).json()
    expect(spec.paths['/api/v1/teams/join'].post.operationId).toBe('joinTeam')
    expect(spec.paths['/api/v1/teams/{id}'].post).toBeUndefined()
    // The code itself is never stored.
    const [stored] = await t.services.db.asService((tx) =>
      tx.query<{ hash: string }>('select invite_code_hash as hash from public.teams where id = $1', [id]),
    )
    expect(stored?.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(stored?.hash).not.toContain(next)
  })

  test('the member cap holds exactly under 50 simultaneous joins', async () => {
    const owner = await newUser()
    const { id, code } = await team(owner, ...(await Promise.all(Array.from({ length: 1 }, () => newUser()))))
    const free = MAX_MEMBERS - 2
    const joiners = await Promise.all(Array.from({ length: 50 }, () => newUser()))
    const outcomes = await Promise.all(joiners.map((j) => call(j, 'POST', '/teams/join', { code })))
    const statuses = outcomes.map((o) => o.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(free)
    expect(statuses.filter((s) => s === 409)).toHaveLength(50 - free)
    expect((await ok(owner, 'GET', `/teams/${id}`)).team.member_count).toBe(MAX_MEMBERS)
  })
})

describe('invitations', () => {
  test('pending → accepted; the invitee sees it by token e-mail; other e-mails, revoked and expired are refused', async () => {
    const [owner, invitee, stranger, second] = await Promise.all([newUser(), newUser(), newUser(), newUser()])
    const { id } = await team(owner)
    const created = await ok(
      owner,
      'POST',
      `/teams/${id}/invitations`,
      { email: invitee.email.toUpperCase() },
      201,
    )
    expect(created.invitation).toMatchObject({
      team_id: id,
      email: invitee.email,
      role: 'member',
      status: 'pending',
      invited_by: owner.id,
    })
    const days = (Date.parse(created.invitation.expires_at) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(6.99)
    expect(days).toBeLessThanOrEqual(7)
    expectError(
      await call(owner, 'POST', `/teams/${id}/invitations`, { email: invitee.email }),
      409,
      'CONFLICT',
    )
    expectError(
      await call(owner, 'POST', `/teams/${id}/invitations`, { email: owner.email }),
      409,
      'CONFLICT',
    )

    const mine = await ok(invitee, 'GET', '/invitations')
    expect(mine.data).toHaveLength(1)
    expect(mine.data[0]).toMatchObject({ id: created.invitation.id, team_name: 'Crew' })
    expect((await ok(stranger, 'GET', '/invitations')).data).toEqual([])
    expectError(
      await call(stranger, 'POST', `/invitations/${created.invitation.id}/accept`),
      404,
      'NOT_FOUND',
    )

    const accepted = await ok(invitee, 'POST', `/invitations/${created.invitation.id}/accept`)
    expect(accepted.team).toMatchObject({ id, my_role: 'member', member_count: 2 })
    expect((await ok(owner, 'GET', `/teams/${id}/invitations`)).data[0].status).toBe('accepted')

    // Revoked → 404; expired → 409 (before and after the hourly job marks it).
    const revoked = await ok(owner, 'POST', `/teams/${id}/invitations`, { email: second.email }, 201)
    expect((await call(owner, 'DELETE', `/teams/${id}/invitations/${revoked.invitation.id}`)).status).toBe(
      204,
    )
    expectError(await call(second, 'POST', `/invitations/${revoked.invitation.id}/accept`), 404, 'NOT_FOUND')
    const expiring = await ok(
      owner,
      'POST',
      `/teams/${id}/invitations`,
      { email: second.email, role: 'admin' },
      201,
    )
    await t.services.db.asService((tx) =>
      tx.query(`update public.team_invitations set expires_at = now() - interval '1 second' where id = $1`, [
        expiring.invitation.id,
      ]),
    )
    expectError(await call(second, 'POST', `/invitations/${expiring.invitation.id}/accept`), 409, 'CONFLICT')
    await t.services.housekeeping.run()
    expectError(await call(second, 'POST', `/invitations/${expiring.invitation.id}/accept`), 409, 'CONFLICT')
    expectError(await call(second, 'POST', `/invitations/${expiring.invitation.id}/decline`), 409, 'CONFLICT')
    expect((await ok(second, 'GET', '/invitations')).data).toEqual([])
    expectError(await call(second, 'GET', `/teams/${id}`), 404, 'NOT_FOUND')
  })

  test('declining', async () => {
    const [owner, invitee] = await Promise.all([newUser(), newUser()])
    const { id } = await team(owner)
    const { invitation } = await ok(owner, 'POST', `/teams/${id}/invitations`, { email: invitee.email }, 201)
    expect((await call(invitee, 'POST', `/invitations/${invitation.id}/decline`)).status).toBe(204)
    expectError(await call(invitee, 'POST', `/invitations/${invitation.id}/accept`), 404, 'NOT_FOUND')
    expect((await ok(owner, 'GET', `/teams/${id}/invitations`)).data[0].status).toBe('declined')
  })
})

describe('rounds and results', () => {
  test('hidden while open and under the minimum; once closed, the aggregate equals an independent computation', async () => {
    const members = await Promise.all([newUser(), newUser(), newUser(), newUser(), newUser()])
    const [owner, a, b, c, late] = members as [TestUser, TestUser, TestUser, TestUser, TestUser]
    const { id } = await team(owner, a, b, c, late)
    const round = await openRound(owner, id, 'Q1', 'divsexp', 'egalitarian')
    expect(round).toMatchObject({ status: 'open', participants: 0, completed: 0, closed_at: null })

    const scores: Json[] = []
    const answers = [
      (_: string, i: number) => 1 + (i % 5),
      () => 5,
      (f: string) => (f === 'growth_mindset' ? 1 : 4),
      (_: string, i: number) => 5 - (i % 3),
    ]
    for (const [n, user] of [owner, a, b, c].entries()) {
      scores.push(await complete(user, id, round.id, answers[n] as (f: string, i: number) => number))
      const seen = await ok(a, 'GET', `/teams/${id}/rounds/${round.id}/results`)
      // Open: counts only, at 1, 2, 3 and 4 completions alike — nothing to difference.
      expect(seen).toMatchObject({ visible: false, results: null, min_completed: 3 })
      expect(seen.participation).toEqual({ members: 5, started: n + 1, completed: n + 1 })
    }
    // The fifth member started but did not finish: the round stays open.
    const { assessment: unfinished } = await ok(late, 'POST', `/teams/${id}/rounds/${round.id}/participate`)
    expectError(await call(a, 'POST', `/teams/${id}/rounds/${round.id}/close`), 403, 'FORBIDDEN')
    const closed = await ok(owner, 'POST', `/teams/${id}/rounds/${round.id}/close`)
    expect(closed.round).toMatchObject({ status: 'closed', participants: 5, completed: 4 })
    expectError(await call(owner, 'POST', `/teams/${id}/rounds/${round.id}/close`), 409, 'CONFLICT')
    // Joined before closing: still their assessment. Never joined: too late.
    expect((await ok(late, 'POST', `/teams/${id}/rounds/${round.id}/participate`)).assessment.id).toBe(
      unfinished.id,
    )

    const shown = await ok(b, 'GET', `/teams/${id}/rounds/${round.id}/results`)
    expect(shown.visible).toBe(true)
    const pillarScores = scores.map((s) => s.results.pillar_score as number)
    expect(shown.results.n).toBe(4)
    expect(shown.results.pillar).toEqual({
      mean: round2(mean(pillarScores)),
      sd: round2(sdPop(pillarScores)),
      // Below 5 completions the extremes would be members' own scores.
      min: null,
      max: null,
    })
    for (const force of Object.keys(scores[0]?.results.force_scores ?? {})) {
      const values = scores.map((s) => s.results.force_scores[force] as number)
      const sd = sdPop(values)
      expect(shown.results.forces[force]).toEqual({
        n: 4,
        mean: round2(mean(values)),
        sd: round2(sd),
        consensus: Math.round(Math.min(1, Math.max(0, 1 - sd / 50)) * 10_000) / 10_000,
      })
    }
    // Nobody's id or own score is in it; a completion after closing changes nothing.
    // (The round itself names who opened it, as API.md's round object does.)
    const text = JSON.stringify({ participation: shown.participation, results: shown.results })
    for (const user of members) expect(text).not.toContain(user.id)
    for (const s of scores) expect(text).not.toContain(s.id)
    const { questions } = await ok(late, 'GET', `/assessments/${unfinished.id}/questions`)
    await ok(late, 'POST', `/assessments/${unfinished.id}/answers`, {
      question_id: questions[0].id,
      answer: 1,
    })
    await ok(late, 'POST', `/assessments/${unfinished.id}/complete`)
    expect(await ok(b, 'GET', `/teams/${id}/rounds/${round.id}/results`)).toEqual(shown)
  })

  test('two completions stay hidden after closing; analytics count them but chart nothing', async () => {
    const [owner, a, c] = await Promise.all([newUser(), newUser(), newUser()])
    const { id } = await team(owner, a, c)
    const round = await openRound(owner, id, 'Small', 'status', 'hierarchical')
    await complete(owner, id, round.id, () => 2)
    await complete(a, id, round.id, () => 4)
    await ok(owner, 'POST', `/teams/${id}/rounds/${round.id}/close`)
    expectError(await call(c, 'POST', `/teams/${id}/rounds/${round.id}/participate`), 409, 'CONFLICT')
    const seen = await ok(c, 'GET', `/teams/${id}/rounds/${round.id}/results`)
    expect(seen).toMatchObject({
      visible: false,
      results: null,
      participation: { members: 3, started: 2, completed: 2 },
    })
    const analytics = await ok(c, 'GET', `/teams/${id}/analytics`)
    expect(analytics).toEqual({ members: 3, rounds: 1, participation_rate: 0.6667, pillars: [] })
  })

  test('a round closes by itself when every member has completed, and at closes_at', async () => {
    const [owner, a, c] = await Promise.all([newUser(), newUser(), newUser()])
    const { id } = await team(owner, a, c)
    const round = await openRound(owner, id, 'All', 'grpprosp', 'egalitarian')
    for (const [i, user] of [owner, a, c].entries()) await complete(user, id, round.id, () => 2 + i)
    const seen = await ok(a, 'GET', `/teams/${id}/rounds/${round.id}/results`)
    expect(seen.round.status).toBe('closed')
    expect(seen.visible).toBe(true)
    expect(seen.results.pillar.mean).toBe(50)

    const timed = await ok(
      owner,
      'POST',
      `/teams/${id}/rounds`,
      {
        name: 'Timed',
        pillar_id: 'outresp',
        mode: 'egalitarian',
        closes_at: new Date(Date.now() + 60_000).toISOString(),
      },
      201,
    )
    await t.services.db.asService((tx) =>
      tx.query(`update public.team_rounds set closes_at = now() - interval '1 second' where id = $1`, [
        timed.round.id,
      ]),
    )
    expectError(await call(a, 'POST', `/teams/${id}/rounds/${timed.round.id}/participate`), 409, 'CONFLICT')
    const listed = await ok(a, 'GET', `/teams/${id}/rounds?status=closed`)
    expect(listed.data.map((r: Json) => r.id).sort()).toEqual([round.id, timed.round.id].sort())
    expect(listed.data.find((r: Json) => r.id === timed.round.id).closed_at).toBe(
      (
        await t.services.db.asService((tx) =>
          tx.query<{ at: Date }>('select closes_at as at from public.team_rounds where id = $1', [
            timed.round.id,
          ]),
        )
      )[0]?.at.toISOString(),
    )
    const analytics = await ok(owner, 'GET', `/teams/${id}/analytics`)
    expect(analytics.pillars).toEqual([
      {
        pillar_id: 'grpprosp',
        mode: 'egalitarian',
        latest_mean: 50,
        trend: [{ round_id: round.id, closed_at: seen.round.closed_at, mean: 50 }],
      },
    ])
  })

  test('with 3 completions only means show: the spread would give the other two scores away', async () => {
    const [owner, a, b] = await Promise.all([newUser(), newUser(), newUser()])
    const { id } = await team(owner, a, b)
    const round = await openRound(owner, id, 'Three', 'dirrecip', 'hierarchical')
    for (const [i, user] of [owner, a, b].entries()) await complete(user, id, round.id, () => 1 + 2 * i)
    const shown = await ok(a, 'GET', `/teams/${id}/rounds/${round.id}/results`)
    expect(shown.results.pillar).toEqual({ mean: 50, sd: null, min: null, max: null })
    for (const force of Object.values(shown.results.forces) as Json[]) {
      expect(force).toMatchObject({ n: 3, mean: 50, sd: null, consensus: null })
    }
  })

  test('from 5 completions the lowest and highest scores are shown', async () => {
    const five = await Promise.all(Array.from({ length: 5 }, () => newUser()))
    const [owner, ...rest] = five as [TestUser, ...TestUser[]]
    const { id } = await team(owner, ...rest)
    const round = await openRound(owner, id, 'Five', 'indrecip', 'egalitarian')
    const scores: number[] = []
    for (const [i, user] of five.entries()) {
      scores.push((await complete(user, id, round.id, () => 1 + i)).results.pillar_score)
    }
    const shown = await ok(owner, 'GET', `/teams/${id}/rounds/${round.id}/results`)
    expect(shown.round.status).toBe('closed') // every member completed
    expect(shown.results.pillar).toMatchObject({
      min: Math.min(...scores),
      max: Math.max(...scores),
      mean: 50,
    })
  })

  test('closing a round every member completed, before anyone read it, closes it (200, not 409)', async () => {
    const [owner, a] = await Promise.all([newUser(), newUser()])
    const { id } = await team(owner, a)
    const round = await openRound(owner, id, 'Done', 'ownprosp', 'hierarchical')
    for (const user of [owner, a]) await complete(user, id, round.id, () => 3)
    const closed = await ok(owner, 'POST', `/teams/${id}/rounds/${round.id}/close`)
    expect(closed.round).toMatchObject({ status: 'closed', completed: 2 })
    expectError(await call(owner, 'POST', `/teams/${id}/rounds/${round.id}/close`), 409, 'CONFLICT')
    // A closed round's results are kept in memory; leaving still shuts them at once.
    expect((await ok(a, 'GET', `/teams/${id}/rounds/${round.id}/results`)).round.status).toBe('closed')
    expect((await call(a, 'DELETE', `/teams/${id}/members/${a.id}`)).status).toBe(204)
    expectError(await call(a, 'GET', `/teams/${id}/rounds/${round.id}/results`), 404, 'NOT_FOUND')
  })

  test('20 concurrent participate calls by one member create one assessment', async () => {
    const owner = await newUser()
    const { id } = await team(owner)
    const round = await openRound(owner, id, 'Race', 'popularity', 'egalitarian')
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call(owner, 'POST', `/teams/${id}/rounds/${round.id}/participate`)),
    )
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]))
    expect(new Set(answers.map((a) => a.body.assessment.id)).size).toBe(1)
    const [count] = await t.services.db.asService((tx) =>
      tx.query<{ n: number }>(
        `select count(*)::int as n from public.assessment_sessions where user_id = $1 and pillar_id = 'popularity'`,
        [owner.id],
      ),
    )
    expect(count?.n).toBe(1)
    expect((await ok(owner, 'GET', `/teams/${id}/rounds/${round.id}`)).my_assessment_id).toBe(
      answers[0]?.body.assessment.id,
    )
  })
})

describe('the hourly job', () => {
  test('marks expired invitations, drops month-old answered ones and closes due rounds — with no read in between', async () => {
    const [owner, invitee, other] = await Promise.all([newUser(), newUser(), newUser()])
    const { id } = await team(owner)
    const { invitation: stale } = await ok(
      owner,
      'POST',
      `/teams/${id}/invitations`,
      { email: invitee.email },
      201,
    )
    const { invitation: old } = await ok(
      owner,
      'POST',
      `/teams/${id}/invitations`,
      { email: other.email },
      201,
    )
    expect((await call(other, 'POST', `/invitations/${old.id}/decline`)).status).toBe(204)
    const due = await ok(
      owner,
      'POST',
      `/teams/${id}/rounds`,
      {
        name: 'Due',
        pillar_id: 'normexp',
        mode: 'hierarchical',
        closes_at: new Date(Date.now() + 60_000).toISOString(),
      },
      201,
    )
    await t.services.db.asService(async (tx) => {
      await tx.query(
        `update public.team_invitations set expires_at = now() - interval '1 second' where id = $1`,
        [stale.id],
      )
      await tx.query(
        `update public.team_invitations set responded_at = now() - interval '31 days' where id = $1`,
        [old.id],
      )
      await tx.query(`update public.team_rounds set closes_at = now() - interval '1 second' where id = $1`, [
        due.round.id,
      ])
    })
    const rows = () =>
      t.services.db.asService(async (tx) => ({
        invitations: await tx.query<{ id: string; status: string }>(
          'select id, status from public.team_invitations where team_id = $1 order by created_at',
          [id],
        ),
        rounds: await tx.query<{ status: string; closed_at: Date | null; closes_at: Date }>(
          'select status, closed_at, closes_at from public.team_rounds where team_id = $1',
          [id],
        ),
      }))
    const before = await rows()
    expect(before.invitations.map((i) => i.status)).toEqual(['pending', 'declined'])
    expect(before.rounds.map((r) => r.status)).toEqual(['open'])

    await t.services.housekeeping.run()
    const after = await rows()
    expect(after.invitations).toEqual([{ id: stale.id, status: 'expired' }])
    expect(after.rounds).toHaveLength(1)
    expect(after.rounds[0]?.status).toBe('closed')
    // Closed as of its closes_at, not as of when the job noticed.
    expect(after.rounds[0]?.closed_at?.toISOString()).toBe(after.rounds[0]?.closes_at.toISOString())
  })
})

describe('team analytics', () => {
  test('participation over closed rounds; each pillar’s trend of visible means in closing order; open rounds stay out', async () => {
    const four = await Promise.all(Array.from({ length: 4 }, () => newUser()))
    const [owner, a, b, c] = four as [TestUser, TestUser, TestUser, TestUser]
    const { id } = await team(owner, a, b, c)
    const results = async (roundId: string) => ok(a, 'GET', `/teams/${id}/rounds/${roundId}/results`)

    // 1: three of four complete, closed by the owner → visible.
    const first = await openRound(owner, id, 'R1', 'divsexp', 'egalitarian')
    for (const [i, user] of [owner, a, b].entries()) await complete(user, id, first.id, () => 1 + i)
    await ok(owner, 'POST', `/teams/${id}/rounds/${first.id}/close`)
    // 2: everyone completes → closes by itself, visible.
    const second = await openRound(owner, id, 'R2', 'divsexp', 'egalitarian')
    for (const [i, user] of four.entries()) await complete(user, id, second.id, () => 2 + (i % 3))
    // 3: another pillar, one completion → closed but hidden: counted, not charted. (Rates that
    // differ before and after the fourth closes: counting it while open, or leaving it out once
    // closed, both change a figure below.)
    const third = await openRound(owner, id, 'R3', 'status', 'hierarchical')
    for (const user of [owner]) await complete(user, id, third.id, () => 5)
    await ok(owner, 'POST', `/teams/${id}/rounds/${third.id}/close`)
    // 4: open with three completions: neither counted nor charted while open.
    const fourth = await openRound(owner, id, 'R4', 'divsexp', 'egalitarian')
    for (const user of [owner, a, b]) await complete(user, id, fourth.id, () => 4)

    const [r1, r2, r3] = (await Promise.all([first, second, third].map((r) => results(r.id)))) as [
      Json,
      Json,
      Json,
    ]
    expect([r1.visible, r2.visible, r3.visible]).toEqual([true, true, false])
    expect(r2.round.status).toBe('closed')
    const point = (r: Json) => ({
      round_id: r.round.id,
      closed_at: r.round.closed_at,
      mean: r.results.pillar.mean,
    })
    const analytics = await ok(c, 'GET', `/teams/${id}/analytics`)
    expect(analytics).toEqual({
      members: 4,
      rounds: 3,
      participation_rate: 0.6667, // (3 + 4 + 1) / (4 + 4 + 4); with the open fourth: 11/16
      pillars: [
        {
          pillar_id: 'divsexp',
          mode: 'egalitarian',
          latest_mean: r2.results.pillar.mean,
          trend: [point(r1), point(r2)],
        },
      ],
    })
    expect(r1.results.pillar.mean).not.toBe(r2.results.pillar.mean)

    // Once the fourth closes it joins the trend as the latest.
    await ok(owner, 'POST', `/teams/${id}/rounds/${fourth.id}/close`)
    const r4 = await results(fourth.id)
    const later = await ok(c, 'GET', `/teams/${id}/analytics`)
    expect(later).toMatchObject({ rounds: 4, participation_rate: 0.6875 }) // (8 + 3) / 16; without it: 8/12
    expect(later.pillars).toEqual([
      {
        pillar_id: 'divsexp',
        mode: 'egalitarian',
        latest_mean: r4.results.pillar.mean,
        trend: [point(r1), point(r2), point(r4)],
      },
    ])
  })

  test('a member who leaves gets 404 at once on every team read, cached results and coaching included', async () => {
    const three = await Promise.all(Array.from({ length: 3 }, () => newUser()))
    const [owner, a, leaver] = three as [TestUser, TestUser, TestUser]
    const { id } = await team(owner, a, leaver)
    const round = await openRound(owner, id, 'Last', 'popularity', 'egalitarian')
    for (const user of three) await complete(user, id, round.id, () => 3)
    const reads: [string, string, unknown?][] = [
      ['GET', `/teams/${id}`],
      ['GET', `/teams/${id}/members`],
      ['GET', `/teams/${id}/rounds`],
      ['GET', `/teams/${id}/rounds/${round.id}`],
      ['GET', `/teams/${id}/rounds/${round.id}/results`],
      ['GET', `/teams/${id}/analytics`],
      ['POST', '/ai/team-coaching', { team_id: id, round_id: round.id }],
    ]
    // Read once as a member: the closed round's results are now in the in-memory cache.
    for (const [method, path, body] of reads)
      expect((await call(leaver, method, path, body)).status).toBe(200)
    expect((await call(leaver, 'DELETE', `/teams/${id}/members/${leaver.id}`)).status).toBe(204)
    for (const [method, path, body] of reads) {
      const answer = await call(leaver, method, path, body)
      expect({ path, status: answer.status, code: answer.body?.error?.code }).toEqual({
        path,
        status: 404,
        code: 'NOT_FOUND',
      })
    }
    expect((await ok(leaver, 'GET', '/teams')).data.map((x: Json) => x.id)).not.toContain(id)
  })
})
