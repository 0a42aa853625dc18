import { beforeAll, describe, expect, test } from 'bun:test'
import { callApi } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { withoutRls } from '@tests/helpers/sql'
import { newApp } from '@/app'
import { buildContainer } from '@/container'

// Broken object-level authorization, route by route: a non-member gets 404 on every team,
// member, invitation and round route (the same answer as for a team that does not exist), a
// plain member gets 403 on every owner/admin action and an admin on every owner-only one — and
// after each refusal every row of the team, its members' assessments included, is unchanged.

let t: TestApp
let owner: TestUser
let admin: TestUser
let admin2: TestUser
let member: TestUser
let outsider: TestUser
let teamId: string
let roundId: string
let invitationId: string

const call = (user: TestUser, method: string, path: string, body?: unknown) =>
  callApi(t, user, method, path, body)

async function ok(user: TestUser, method: string, path: string, body?: unknown) {
  const response = await call(user, method, path, body)
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status}`)
  return response.body
}

/** Every row that belongs to the team or its members' assessments, as the service sees them. */
async function snapshot(): Promise<string> {
  return t.services.db.asService(async (tx) => {
    const rows: Record<string, unknown[]> = {}
    const queries = {
      teams: 'select * from public.teams where id = $1',
      team_members: 'select * from public.team_members where team_id = $1 order by user_id',
      team_invitations: 'select * from public.team_invitations where team_id = $1 order by id',
      team_rounds: 'select * from public.team_rounds where team_id = $1 order by id',
      team_round_participants: `select p.* from public.team_round_participants p join public.team_rounds r on r.id = p.round_id
                                 where r.team_id = $1 order by p.user_id`,
      assessment_sessions: `select s.* from public.assessment_sessions s
                             where s.user_id in (select user_id from public.team_members where team_id = $1) order by s.id`,
    }
    for (const [name, sql] of Object.entries(queries)) rows[name] = await tx.query(sql, [teamId])
    return JSON.stringify(rows)
  })
}

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  ;[owner, admin, admin2, member, outsider] = await Promise.all([
    newUser(),
    newUser(),
    newUser(),
    newUser(),
    newUser(),
  ])
  teamId = (await ok(owner, 'POST', '/teams', { name: 'Guarded' })).team.id
  const { code } = await ok(owner, 'POST', `/teams/${teamId}/invite-code`)
  for (const user of [admin, admin2, member]) await ok(user, 'POST', '/teams/join', { code })
  for (const user of [admin, admin2])
    await ok(owner, 'PATCH', `/teams/${teamId}/members/${user.id}`, { role: 'admin' })
  roundId = (
    await ok(owner, 'POST', `/teams/${teamId}/rounds`, {
      name: 'R',
      pillar_id: 'divsexp',
      mode: 'egalitarian',
    })
  ).round.id
  await ok(member, 'POST', `/teams/${teamId}/rounds/${roundId}/participate`)
  invitationId = (await ok(owner, 'POST', `/teams/${teamId}/invitations`, { email: 'someone@example.test' }))
    .invitation.id
}, DB_SETUP_TIMEOUT_MS)

type Attempt = [method: string, path: () => string, body?: () => unknown]

const everyRoute: Attempt[] = [
  ['GET', () => `/teams/${teamId}`],
  ['PATCH', () => `/teams/${teamId}`, () => ({ name: 'Taken' })],
  ['DELETE', () => `/teams/${teamId}`],
  ['GET', () => `/teams/${teamId}/members`],
  ['PATCH', () => `/teams/${teamId}/members/${member.id}`, () => ({ role: 'admin' })],
  ['DELETE', () => `/teams/${teamId}/members/${member.id}`],
  ['POST', () => `/teams/${teamId}/transfer`, () => ({ user_id: member.id })],
  ['POST', () => `/teams/${teamId}/invite-code`],
  ['POST', () => `/teams/${teamId}/invitations`, () => ({ email: 'new@example.test' })],
  ['GET', () => `/teams/${teamId}/invitations`],
  ['DELETE', () => `/teams/${teamId}/invitations/${invitationId}`],
  ['POST', () => `/teams/${teamId}/rounds`, () => ({ name: 'X', pillar_id: 'status', mode: 'hierarchical' })],
  ['GET', () => `/teams/${teamId}/rounds`],
  ['GET', () => `/teams/${teamId}/rounds/${roundId}`],
  ['POST', () => `/teams/${teamId}/rounds/${roundId}/participate`],
  ['POST', () => `/teams/${teamId}/rounds/${roundId}/close`],
  ['GET', () => `/teams/${teamId}/rounds/${roundId}/results`],
  ['GET', () => `/teams/${teamId}/analytics`],
  ['POST', () => `/invitations/${invitationId}/accept`],
  ['POST', () => `/invitations/${invitationId}/decline`],
]

describe('a non-member', () => {
  test('gets 404 on every route, with the body of a missing team, and changes nothing', async () => {
    const before = await snapshot()
    const missing = await call(outsider, 'GET', `/teams/${crypto.randomUUID()}`)
    for (const [method, path, body] of everyRoute) {
      const answer = await call(outsider, method, path(), body?.())
      expect({ route: `${method} ${path()}`, status: answer.status, code: answer.body?.error?.code }).toEqual(
        {
          route: `${method} ${path()}`,
          status: 404,
          code: 'NOT_FOUND',
        },
      )
    }
    expect((await call(outsider, 'GET', `/teams/${teamId}`)).body.error.message).toBe(
      missing.body.error.message,
    )
    expect((await ok(outsider, 'GET', '/teams')).data).toEqual([])
    expect(await snapshot()).toBe(before)
  })

  test('a round of another team is a 404 even through a team the caller belongs to', async () => {
    const other = (await ok(outsider, 'POST', '/teams', { name: 'Elsewhere' })).team.id
    for (const suffix of ['', '/participate', '/close', '/results']) {
      const method = suffix === '' || suffix === '/results' ? 'GET' : 'POST'
      expect((await call(outsider, method, `/teams/${other}/rounds/${roundId}${suffix}`)).status).toBe(404)
    }
    // …and another team's invitation through one's own team.
    expect((await call(outsider, 'DELETE', `/teams/${other}/invitations/${invitationId}`)).status).toBe(404)
  })
})

const managerOnly: Attempt[] = [
  ['PATCH', () => `/teams/${teamId}`, () => ({ name: 'Taken' })],
  ['DELETE', () => `/teams/${teamId}/members/${admin.id}`],
  ['POST', () => `/teams/${teamId}/invite-code`],
  ['POST', () => `/teams/${teamId}/invitations`, () => ({ email: 'new@example.test' })],
  ['GET', () => `/teams/${teamId}/invitations`],
  ['DELETE', () => `/teams/${teamId}/invitations/${invitationId}`],
  ['POST', () => `/teams/${teamId}/rounds`, () => ({ name: 'X', pillar_id: 'status', mode: 'hierarchical' })],
  ['POST', () => `/teams/${teamId}/rounds/${roundId}/close`],
]

const ownerOnly: Attempt[] = [
  ['DELETE', () => `/teams/${teamId}`],
  ['PATCH', () => `/teams/${teamId}/members/${member.id}`, () => ({ role: 'admin' })],
  ['POST', () => `/teams/${teamId}/transfer`, () => ({ user_id: member.id })],
  // An admin removes plain members only, never another admin.
  ['DELETE', () => `/teams/${teamId}/members/${admin2.id}`],
]

async function expectAllForbidden(user: TestUser, attempts: Attempt[]) {
  const before = await snapshot()
  for (const [method, path, body] of attempts) {
    const answer = await call(user, method, path(), body?.())
    expect({ route: `${method} ${path()}`, status: answer.status, code: answer.body?.error?.code }).toEqual({
      route: `${method} ${path()}`,
      status: 403,
      code: 'FORBIDDEN',
    })
  }
  expect(await snapshot()).toBe(before)
}

describe('roles', () => {
  test('a plain member gets 403 on every owner/admin action and changes nothing', async () => {
    await expectAllForbidden(member, [...managerOnly, ...ownerOnly])
  })

  test('an admin gets 403 on every owner-only action and changes nothing', async () => {
    await expectAllForbidden(admin, ownerOnly)
  })

  test('the services alone hold the line: the same attempts on a database where RLS does not apply', async () => {
    const withRls = t
    const { db } = await sharedDatabase()
    const services = await buildContainer(withRls.services.config, withRls.services.logger, {
      db: withoutRls(db),
      skipKnowledgeInit: true,
    })
    const app = newApp(services)
    t = {
      ...withRls,
      app,
      services,
      request: (path, init) => Promise.resolve(app.request(`http://pilar.test${path}`, init)),
    }
    try {
      await expectAllForbidden(member, [...managerOnly, ...ownerOnly])
      await expectAllForbidden(admin, ownerOnly)
      const before = await snapshot()
      for (const [method, path, body] of everyRoute) {
        expect({
          route: `${method} ${path()}`,
          status: (await call(outsider, method, path(), body?.())).status,
        }).toEqual({
          route: `${method} ${path()}`,
          status: 404,
        })
      }
      expect(await snapshot()).toBe(before)
    } finally {
      t = withRls
      await services.close()
    }
  })

  test('a plain member reads the team, its members, rounds, results and analytics', async () => {
    for (const path of [
      '',
      '/members',
      '/rounds',
      `/rounds/${roundId}`,
      `/rounds/${roundId}/results`,
      '/analytics',
    ]) {
      expect((await call(member, 'GET', `/teams/${teamId}${path}`)).status).toBe(200)
    }
  })
})
