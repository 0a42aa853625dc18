import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createAuthUser, DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { attempt, rolledBack } from '@tests/helpers/sql'
import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import { type ScoredQuestion, scoreAssessment } from '@/services/assessments/scoring'
import { AssessmentStore } from '@/services/assessments/store'
import { RoundStore } from '@/services/teams/rounds-store'

// The teams migration on its own: SQL run as users (role `authenticated`, claims set, as
// PostgREST does), no HTTP and no service in front. Every lock the services rely on — the
// policies, the column grants, the security-definer functions — must hold here by itself,
// because on Supabase anyone with a token can send this SQL through the REST API.
//
// Refused writes are checked twice: by the statement's outcome (a SQLSTATE, or zero rows) and
// by reading the team's rows back as the table owner, inside the same transaction, before and
// after. Attempts run in transactions that are rolled back, so the fixtures stay as they are.

let db: Database
let questions: ScoredQuestion[]
let savedSettings: { max_members: number; min_results: number }

/** Runs `fn` as `user` in a transaction that is then rolled back, and returns what `fn` returned. */
const asUserRolledBack = <T>(user: JwtClaims, fn: (tx: Tx) => Promise<T>): Promise<T> =>
  rolledBack((inner) => db.asUser(user, inner), fn)

/**
 * Everything stored about a team — the code's hash included — read by the table owner (no RLS,
 * every column). `tx` may be a user's transaction: the role is reset first, so the rows a
 * refused statement might have touched in that very transaction are what gets read.
 */
async function teamRows(tx: Tx, teamId: string): Promise<string> {
  await tx.query('reset role')
  const q = (sql: string) => tx.query(sql, [teamId])
  return JSON.stringify({
    teams: await q('select * from public.teams where id = $1'),
    members: await q('select * from public.team_members where team_id = $1 order by user_id'),
    invitations: await q('select * from public.team_invitations where team_id = $1 order by id'),
    rounds: await q('select * from public.team_rounds where team_id = $1 order by id'),
    participants: await q(
      `select p.* from public.team_round_participants p join public.team_rounds r on r.id = p.round_id
        where r.team_id = $1 order by p.round_id, p.user_id`,
    ),
    assessments: await q(
      `select s.* from public.assessment_sessions s
         join public.team_round_participants p on p.assessment_id = s.id
         join public.team_rounds r on r.id = p.round_id
        where r.team_id = $1 order by s.id`,
    ),
  })
}

const snapshot = (teamId: string) => db.transaction((tx) => teamRows(tx, teamId))

async function newUser(email?: string): Promise<JwtClaims> {
  const { id, email: address } = await createAuthUser(db, email)
  return { sub: id, email: address }
}

async function one<T>(user: JwtClaims, sql: string, params: unknown[]): Promise<T> {
  const [row] = await db.asUser(user, (tx) => tx.query<{ v: T }>(sql, params))
  return row?.v as T
}

const createTeam = (owner: JwtClaims, name = 'A team') =>
  one<string>(owner, 'select public.create_team($1, null) as v', [name])

async function rotateCode(manager: JwtClaims, teamId: string): Promise<string> {
  const [row] = await db.asUser(manager, (tx) =>
    tx.query<{ code: string }>('select code from public.rotate_team_invite_code($1)', [teamId]),
  )
  return row?.code ?? ''
}

const joinTeam = (user: JwtClaims, code: string) =>
  one<string>(user, 'select public.join_team($1) as v', [code])

async function setRole(owner: JwtClaims, teamId: string, userId: string, role: 'admin' | 'member') {
  const rows = await db.asUser(owner, (tx) =>
    tx.query('update public.team_members set role = $3 where team_id = $1 and user_id = $2 returning 1', [
      teamId,
      userId,
      role,
    ]),
  )
  expect(rows).toHaveLength(1)
}

/** A team with an owner and the given people joined by code; returns its id. */
async function teamOf(owner: JwtClaims, joiners: JwtClaims[], name?: string): Promise<string> {
  const teamId = await createTeam(owner, name)
  const code = await rotateCode(owner, teamId)
  for (const user of joiners) expect(await joinTeam(user, code)).toBe(teamId)
  return teamId
}

const openRound = (manager: JwtClaims, teamId: string, name = 'Round') =>
  one<string>(
    manager,
    `insert into public.team_rounds (team_id, name, pillar_id, mode) values ($1, $2, 'divsexp', 'egalitarian')
     returning id as v`,
    [teamId, name],
  )

/** The participate flow of the service (RoundStore), run as the member. */
async function participate(user: JwtClaims, teamId: string, roundId: string): Promise<string> {
  const store = new RoundStore(db)
  return db.asUser(user, async (tx) => {
    const existing = await store.myAssessment(tx, roundId, user.sub)
    if (existing) return existing
    const round = await store.round(tx, teamId, roundId)
    if (!round) throw new Error('round not visible to its member')
    return store.participate(tx, round, user.sub)
  })
}

/**
 * Answers `answers` (question id → 1..5) through the atomic answer function as the member and
 * completes the assessment the way the service does: scored from the stored responses.
 */
async function complete(user: JwtClaims, assessmentId: string, answers: Record<string, number>) {
  await db.asUser(user, async (tx) => {
    for (const [questionId, answer] of Object.entries(answers)) {
      await tx.query('select public.submit_assessment_answer($1, $2, $3)', [assessmentId, questionId, answer])
    }
  })
  const outcome = await new AssessmentStore(db).complete(user.sub, assessmentId, (row) =>
    scoreAssessment(
      questions,
      Object.fromEntries(Object.entries(row.responses).map(([id, r]) => [id, r.answer])),
    ),
  )
  expect(outcome.ok).toBe(true)
}

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  questions = await db.transaction((tx) =>
    tx.query<ScoredQuestion>(
      `select id, force_key from public.assessment_questions where pillar_id = 'divsexp' order by position`,
    ),
  )
  // The settings are one shared row (other files' apps write it at start-up): keep what was
  // there, pin what these tests depend on, and put it back afterwards.
  const [settings] = await db.asService((tx) =>
    tx.query<{ max_members: number; min_results: number }>(
      'select max_members, min_results from public.team_settings',
    ),
  )
  if (!settings) throw new Error('team_settings has no row')
  savedSettings = settings
  await db.asService((tx) => tx.query('update public.team_settings set max_members = 200, min_results = 3'))
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  if (!savedSettings) return
  await db.asService((tx) =>
    tx.query('update public.team_settings set max_members = $1, min_results = $2', [
      savedSettings.max_members,
      savedSettings.min_results,
    ]),
  )
})

describe('roles: a non-member, a plain member, admins and the owner', () => {
  // One team with every role, an open round one member joined, and a pending invitation.
  const t = { id: '', round: '', invitation: '', assessment: '' }
  let owner: JwtClaims
  let admin: JwtClaims
  let admin2: JwtClaims
  let member: JwtClaims
  let member2: JwtClaims
  let outsider: JwtClaims

  beforeAll(async () => {
    ;[owner, admin, admin2, member, member2, outsider] = await Promise.all(
      Array.from({ length: 6 }, () => newUser()),
    ).then((users) => users as [JwtClaims, JwtClaims, JwtClaims, JwtClaims, JwtClaims, JwtClaims])
    t.id = await teamOf(owner, [admin, admin2, member, member2], 'Roles')
    await setRole(owner, t.id, admin.sub, 'admin')
    await setRole(owner, t.id, admin2.sub, 'admin')
    t.round = await openRound(owner, t.id)
    t.assessment = await participate(member, t.id, t.round)
    t.invitation = await one<string>(
      owner,
      `insert into public.team_invitations (team_id, email) values ($1, $2) returning id as v`,
      [t.id, `invitee-${crypto.randomUUID()}@example.test`],
    )
  }, DB_SETUP_TIMEOUT_MS)

  /** Every read, write and function a user might aim at the team, each one's outcome. */
  async function attackTeam(tx: Tx, user: JwtClaims) {
    const { id, round, invitation } = t
    return {
      // Writes aimed at the team's rows; the *All variants have no WHERE and no RETURNING, so
      // only the UPDATE/DELETE policy stands in their way, not the SELECT one.
      renameTeam: await attempt(tx, `update public.teams set name = 'Taken' where id = $1 returning id`, [
        id,
      ]),
      renameAll: await attempt(tx, `update public.teams set description = 'Taken'`),
      deleteTeam: await attempt(tx, 'delete from public.teams where id = $1 returning id', [id]),
      deleteAllTeams: await attempt(tx, 'delete from public.teams'),
      promoteSelf: await attempt(
        tx,
        `update public.team_members set role = 'admin' where team_id = $1 and user_id = $2 returning 1`,
        [id, user.sub],
      ),
      changeRoles: await attempt(tx, `update public.team_members set role = 'member' where team_id = $1`, [
        id,
      ]),
      removeOthers: await attempt(
        tx,
        'delete from public.team_members where team_id = $1 and user_id <> $2 returning 1',
        [id, user.sub],
      ),
      removeAll: await attempt(tx, 'delete from public.team_members where user_id <> $1', [user.sub]),
      addMember: await attempt(
        tx,
        `insert into public.team_members (team_id, user_id, role) values ($1, $2, 'member')`,
        [id, crypto.randomUUID()],
      ),
      invite: await attempt(tx, `insert into public.team_invitations (team_id, email) values ($1, $2)`, [
        id,
        `planted-${crypto.randomUUID()}@example.test`,
      ]),
      declineInvitation: await attempt(
        tx,
        `update public.team_invitations set status = 'declined' where id = $1 returning id`,
        [invitation],
      ),
      revokeInvitation: await attempt(tx, 'delete from public.team_invitations where id = $1 returning id', [
        invitation,
      ]),
      openRound: await attempt(
        tx,
        `insert into public.team_rounds (team_id, name, pillar_id, mode) values ($1, 'Mine', 'divsexp', 'egalitarian')`,
        [id],
      ),
      editRound: await attempt(tx, `update public.team_rounds set status = 'closed' where id = $1`, [round]),
      deleteRound: await attempt(tx, 'delete from public.team_rounds where id = $1', [round]),
      editParticipants: await attempt(
        tx,
        'update public.team_round_participants set user_id = $2 where round_id = $1',
        [round, user.sub],
      ),
      deleteParticipants: await attempt(
        tx,
        'delete from public.team_round_participants where round_id = $1',
        [round],
      ),
      // The security-definer functions: they take the caller from auth.uid() and check it.
      rotateCode: await attempt(tx, 'select * from public.rotate_team_invite_code($1)', [id]),
      transferToSelf: await attempt(tx, 'select public.transfer_team_ownership($1, $2)', [id, user.sub]),
      closeRound: await attempt(tx, 'select public.close_team_round($1)', [round]),
    }
  }

  test('a non-member sees no row of the team, changes none, plants none; every function says PT404', async () => {
    const before = await snapshot(t.id)
    const { seen, outcomes, functions, after } = await asUserRolledBack(outsider, async (tx) => {
      const seen = {
        teams: await tx.query('select id, name from public.teams where id = $1', [t.id]),
        members: await tx.query('select * from public.team_members where team_id = $1', [t.id]),
        invitations: await tx.query('select * from public.team_invitations where team_id = $1', [t.id]),
        rounds: await tx.query('select * from public.team_rounds where team_id = $1', [t.id]),
        participants: await tx.query('select * from public.team_round_participants where round_id = $1', [
          t.round,
        ]),
        role: await tx.query('select public.team_role($1) as role', [t.id]),
      }
      const outcomes = await attackTeam(tx, outsider)
      // Their own in-progress assessment of the round's pillar, linked to a round not theirs.
      const [own] = await tx.query<{ id: string }>(
        `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'divsexp', 'egalitarian') returning id`,
        [outsider.sub],
      )
      const functions = {
        joinRound: await attempt(
          tx,
          'insert into public.team_round_participants (round_id, user_id, assessment_id) values ($1, $2, $3)',
          [t.round, outsider.sub, own?.id],
        ),
        results: await attempt(tx, 'select public.team_round_results($1)', [t.round]),
        progress: await attempt(tx, 'select * from public.team_round_progress($1::uuid[])', [[t.round]]),
        accept: await attempt(tx, 'select public.accept_team_invitation($1)', [t.invitation]),
      }
      return { seen, outcomes, functions, after: await teamRows(tx, t.id) }
    })
    expect(seen).toEqual({
      teams: [],
      members: [],
      invitations: [],
      rounds: [],
      participants: [],
      role: [{ role: null }],
    })
    // [] is "the policy left every row out"; 42501 is "no privilege" or "new row violates
    // row-level security policy".
    expect(outcomes).toEqual({
      renameTeam: [],
      renameAll: [],
      deleteTeam: [],
      deleteAllTeams: [],
      promoteSelf: [],
      changeRoles: [],
      removeOthers: [],
      removeAll: [],
      addMember: '42501',
      invite: '42501',
      declineInvitation: [],
      revokeInvitation: [],
      openRound: '42501',
      editRound: '42501',
      deleteRound: '42501',
      editParticipants: '42501',
      deleteParticipants: '42501',
      rotateCode: 'PT404',
      transferToSelf: 'PT404',
      closeRound: 'PT404',
    })
    expect(functions).toEqual({ joinRound: '42501', results: 'PT404', progress: [], accept: 'PT404' })
    expect(after).toBe(before)
    expect(await snapshot(t.id)).toBe(before)
  })

  test('a plain member reads the team but renames, deletes, re-roles, removes, invites, opens and closes nothing', async () => {
    const before = await snapshot(t.id)
    const { seen, outcomes, after } = await asUserRolledBack(member2, async (tx) => {
      const seen = {
        teams: await tx.query('select id from public.teams where id = $1', [t.id]),
        members: (await tx.query('select 1 from public.team_members where team_id = $1', [t.id])).length,
        rounds: (await tx.query('select 1 from public.team_rounds where team_id = $1', [t.id])).length,
        // Managers' business: a plain member sees no invitation.
        invitations: await tx.query('select id from public.team_invitations where team_id = $1', [t.id]),
      }
      return { seen, outcomes: await attackTeam(tx, member2), after: await teamRows(tx, t.id) }
    })
    expect(seen).toEqual({ teams: [{ id: t.id }], members: 5, rounds: 1, invitations: [] })
    expect(outcomes).toEqual({
      renameTeam: [],
      renameAll: [],
      deleteTeam: [],
      deleteAllTeams: [],
      promoteSelf: [],
      changeRoles: [],
      removeOthers: [],
      removeAll: [],
      addMember: '42501',
      invite: '42501',
      declineInvitation: [],
      revokeInvitation: [],
      openRound: '42501',
      editRound: '42501',
      deleteRound: '42501',
      editParticipants: '42501',
      deleteParticipants: '42501',
      rotateCode: 'PT403',
      transferToSelf: 'PT403',
      closeRound: 'PT403',
    })
    expect(after).toBe(before)
    expect(await snapshot(t.id)).toBe(before)
  })

  test('the refusals are about the role: the owner’s and an admin’s same statements take effect', async () => {
    const byOwner = await asUserRolledBack(owner, async (tx) => ({
      rename: (await tx.query(`update public.teams set name = 'Renamed' where id = $1 returning id`, [t.id]))
        .length,
      demoteAdmin: (
        await tx.query(
          `update public.team_members set role = 'member' where team_id = $1 and user_id = $2 returning 1`,
          [t.id, admin2.sub],
        )
      ).length,
      invitations: (await tx.query('select 1 from public.team_invitations where team_id = $1', [t.id]))
        .length,
      rotate: (await tx.query('select code from public.rotate_team_invite_code($1)', [t.id])).length,
      close: await attempt(tx, 'select 1 as ok from public.close_team_round($1)', [t.round]),
      status: (
        await tx.query<{ status: string }>('select status from public.team_rounds where id = $1', [t.round])
      )[0]?.status,
    }))
    expect(byOwner).toEqual({
      rename: 1,
      demoteAdmin: 1,
      invitations: 1,
      rotate: 1,
      close: [{ ok: 1 }],
      status: 'closed',
    })
    const byAdmin = await asUserRolledBack(admin, async (tx) => ({
      rename: (await tx.query(`update public.teams set name = 'Renamed' where id = $1 returning id`, [t.id]))
        .length,
      invite: (
        await tx.query(`insert into public.team_invitations (team_id, email) values ($1, $2) returning id`, [
          t.id,
          `new-${crypto.randomUUID()}@example.test`,
        ])
      ).length,
      open: (
        await tx.query(
          `insert into public.team_rounds (team_id, name, pillar_id, mode) values ($1, 'Next', 'divsexp', 'egalitarian') returning id`,
          [t.id],
        )
      ).length,
      close: await attempt(tx, 'select 1 as ok from public.close_team_round($1)', [t.round]),
      status: (
        await tx.query<{ status: string }>('select status from public.team_rounds where id = $1', [t.round])
      )[0]?.status,
    }))
    expect(byAdmin).toEqual({ rename: 1, invite: 1, open: 1, close: [{ ok: 1 }], status: 'closed' })
  })

  test('an admin removes plain members, not other admins, not the owner; changes no role; transfers nothing', async () => {
    const before = await snapshot(t.id)
    const outcomes = await asUserRolledBack(admin, async (tx) => {
      const remove = (userId: string) =>
        attempt(tx, 'delete from public.team_members where team_id = $1 and user_id = $2 returning user_id', [
          t.id,
          userId,
        ])
      return {
        otherAdmin: await remove(admin2.sub),
        owner: await remove(owner.sub),
        demoteOther: await attempt(
          tx,
          `update public.team_members set role = 'member' where team_id = $1 and user_id = $2 returning 1`,
          [t.id, admin2.sub],
        ),
        promoteMember: await attempt(
          tx,
          `update public.team_members set role = 'admin' where team_id = $1 and user_id = $2 returning 1`,
          [t.id, member.sub],
        ),
        transfer: await attempt(tx, 'select public.transfer_team_ownership($1, $2)', [t.id, admin.sub]),
        plainMember: await remove(member2.sub),
      }
    })
    expect(outcomes).toEqual({
      otherAdmin: [],
      owner: [],
      demoteOther: [],
      promoteMember: [],
      transfer: 'PT403',
      plainMember: [{ user_id: member2.sub }],
    })
    expect(await snapshot(t.id)).toBe(before)
  })

  test('nobody removes or demotes the owner, nor makes anyone owner by a role change', async () => {
    const before = await snapshot(t.id)
    for (const user of [owner, admin, member]) {
      const outcomes = await asUserRolledBack(user, async (tx) => ({
        remove: await attempt(
          tx,
          'delete from public.team_members where team_id = $1 and user_id = $2 returning 1',
          [t.id, owner.sub],
        ),
        demote: await attempt(
          tx,
          `update public.team_members set role = 'admin' where team_id = $1 and user_id = $2 returning 1`,
          [t.id, owner.sub],
        ),
        crown: await attempt(
          tx,
          `update public.team_members set role = 'owner' where team_id = $1 and user_id = $2 returning 1`,
          [t.id, member2.sub],
        ),
        after: await teamRows(tx, t.id),
      }))
      // Only the owner's "crown" reaches a row (the policy's USING lets the owner update
      // others); its WITH CHECK then refuses the new role.
      expect({ user: user.sub, ...outcomes }).toEqual({
        user: user.sub,
        remove: [],
        demote: [],
        crown: user === owner ? '42501' : [],
        after: before,
      })
    }
    expect(await snapshot(t.id)).toBe(before)
  })

  test('internal functions are not executable by authenticated; team_settings is neither readable nor writable', async () => {
    const [settingsBefore] = await db.asService((tx) => tx.query('select * from public.team_settings'))
    const before = await snapshot(t.id)
    const outcomes = await asUserRolledBack(owner, async (tx) => ({
      admit: await attempt(tx, `select public._team_admit($1, $2, 'member')`, [t.id, crypto.randomUUID()]),
      freeze: await attempt(tx, 'select public._team_round_freeze($1, now())', [t.round]),
      aggregate: await attempt(tx, 'select public._team_round_aggregate($1, now(), 1)', [t.round]),
      settleAll: await attempt(tx, 'select public.settle_team_rounds(null)'),
      settleTeam: await attempt(tx, 'select public.settle_team_rounds($1)', [t.id]),
      expire: await attempt(tx, 'select public.expire_team_invitations()'),
      readSettings: await attempt(tx, 'select * from public.team_settings'),
      raiseCap: await attempt(tx, 'update public.team_settings set max_members = 100000'),
      lowerMinimum: await attempt(tx, 'update public.team_settings set min_results = 2'),
      deleteSettings: await attempt(tx, 'delete from public.team_settings'),
      insertSettings: await attempt(tx, 'insert into public.team_settings (id) values (true)'),
    }))
    expect(outcomes).toEqual({
      admit: '42501',
      freeze: '42501',
      aggregate: '42501',
      settleAll: '42501',
      settleTeam: '42501',
      expire: '42501',
      readSettings: '42501',
      raiseCap: '42501',
      lowerMinimum: '42501',
      deleteSettings: '42501',
      insertSettings: '42501',
    })
    expect(await snapshot(t.id)).toBe(before)
    const [settingsAfter] = await db.asService((tx) => tx.query('select * from public.team_settings'))
    expect(settingsAfter).toEqual(settingsBefore)
    // A 42501 above could also come from inside a function (_team_admit reads team_settings
    // first): the privilege itself is checked in the catalog too.
    // Every internal one: the _team_* helpers and the two the server's job runs.
    const privileges = await db.transaction((tx) =>
      tx.query<{ fn: string; authenticated: boolean; anon: boolean }>(
        `select p.oid::regprocedure::text as fn,
                has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
                has_function_privilege('anon', p.oid, 'execute') as anon
           from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public'
            and (p.proname like '\\_team%' or p.proname in ('settle_team_rounds', 'expire_team_invitations'))
          order by 1`,
      ),
    )
    expect(privileges.filter((p) => p.authenticated || p.anon)).toEqual([])
    expect(privileges.map((p) => p.fn)).toEqual(
      expect.arrayContaining([
        '_team_admit(uuid,uuid,text)',
        '_team_round_aggregate(uuid,timestamp with time zone,integer)',
        '_team_round_freeze(uuid,timestamp with time zone)',
        'expire_team_invitations()',
        'settle_team_rounds(uuid)',
      ]),
    )
  })

  test('the invite code’s hash is readable by nobody but the server, not even the owner', async () => {
    const outcome = await asUserRolledBack(owner, (tx) =>
      attempt(tx, 'select invite_code_hash from public.teams where id = $1', [t.id]),
    )
    expect(outcome).toBe('42501')
    // …nor usable as a filter to probe codes with.
    const probe = await asUserRolledBack(owner, (tx) =>
      attempt(tx, `select id from public.teams where invite_code_hash like 'a%'`),
    )
    expect(probe).toBe('42501')
  })
})

describe('leaving and removal take effect in the very next transaction', () => {
  test('a member who leaves, and one an admin removes, see none of the team’s rows afterwards', async () => {
    const [owner, admin, leaver, removed] = await Promise.all([newUser(), newUser(), newUser(), newUser()])
    const teamId = await teamOf(owner, [admin, leaver, removed], 'Leaving')
    await setRole(owner, teamId, admin.sub, 'admin')
    const roundId = await openRound(admin, teamId)
    const view = (user: JwtClaims) =>
      db.asUser(user, async (tx) => ({
        teams: (await tx.query('select 1 from public.teams where id = $1', [teamId])).length,
        members: (await tx.query('select 1 from public.team_members where team_id = $1', [teamId])).length,
        rounds: (await tx.query('select 1 from public.team_rounds where team_id = $1', [teamId])).length,
        progress: (await tx.query('select 1 from public.team_round_progress($1::uuid[])', [[roundId]]))
          .length,
        results: await attempt(tx, `select public.team_round_results($1) ->> 'status' as s`, [roundId]),
      }))
    const member = { teams: 1, members: 4, rounds: 1, progress: 1, results: [{ s: 'open' }] }
    expect(await view(leaver)).toEqual(member)
    expect(await view(removed)).toEqual(member)

    const left = await db.asUser(leaver, (tx) =>
      tx.query('delete from public.team_members where team_id = $1 and user_id = $2 returning 1', [
        teamId,
        leaver.sub,
      ]),
    )
    expect(left).toHaveLength(1)
    const gone = { teams: 0, members: 0, rounds: 0, progress: 0, results: 'PT404' }
    expect(await view(leaver)).toEqual(gone)

    const kicked = await db.asUser(admin, (tx) =>
      tx.query('delete from public.team_members where team_id = $1 and user_id = $2 returning 1', [
        teamId,
        removed.sub,
      ]),
    )
    expect(kicked).toHaveLength(1)
    expect(await view(removed)).toEqual(gone)
    // The others still see the team (two members left).
    expect(await view(admin)).toEqual({ ...member, members: 2 })
  })
})

describe('joining by code and by invitation', () => {
  let owner: JwtClaims
  let teamId: string

  beforeAll(async () => {
    owner = await newUser()
    teamId = await teamOf(owner, [], 'Joining')
  })

  const members = () =>
    db.transaction((tx) =>
      tx.query<{ user_id: string; role: string }>(
        'select user_id, role from public.team_members where team_id = $1 order by joined_at, user_id',
        [teamId],
      ),
    )
  const tryJoin = (user: JwtClaims, code: string) =>
    db.asUser(user, (tx) => attempt(tx, 'select public.join_team($1) as id', [code]))
  const tryAccept = (user: JwtClaims, invitationId: string) =>
    db.asUser(user, (tx) => attempt(tx, 'select public.accept_team_invitation($1) as id', [invitationId]))
  const invite = (email: string, role: 'admin' | 'member' = 'member') =>
    one<string>(
      owner,
      'insert into public.team_invitations (team_id, email, role) values ($1, $2, $3) returning id as v',
      [teamId, email, role],
    )

  test('a rotated-away code and an expired code are PT404; the current one admits', async () => {
    const oldCode = await rotateCode(owner, teamId)
    const newCode = await rotateCode(owner, teamId)
    expect(newCode).toMatch(/^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$/)
    expect(newCode).not.toBe(oldCode)
    const [late, early] = [await newUser(), await newUser()]

    const before = await snapshot(teamId)
    expect(await tryJoin(late, oldCode)).toBe('PT404')
    expect(await snapshot(teamId)).toBe(before)

    // Typed in lower case, the current code still works (it is matched upper-cased).
    expect(await tryJoin(early, newCode.toLowerCase())).toEqual([{ id: teamId }])
    // Joining again is the same answer and no second row.
    expect(await tryJoin(early, newCode)).toEqual([{ id: teamId }])
    expect((await members()).map((m) => m.user_id)).toEqual([owner.sub, early.sub])

    // Expired: moved into the past as the table owner (nobody else can write the column).
    await db.transaction((tx) =>
      tx.query(`update public.teams set invite_code_expires_at = now() - interval '1 minute' where id = $1`, [
        teamId,
      ]),
    )
    const expired = await snapshot(teamId)
    expect(await tryJoin(late, newCode)).toBe('PT404')
    expect(await snapshot(teamId)).toBe(expired)
  })

  test('an invitation: another e-mail → PT404, expired → PT409, revoked → PT404; the invitee’s own → admitted', async () => {
    const address = `invitee-${crypto.randomUUID()}@example.test`
    const invitee = await newUser(address)
    const stranger = await newUser()
    // Same person, a token whose e-mail is the invited one in other letters: still theirs.
    const shouting: JwtClaims = { ...invitee, email: address.toUpperCase() }

    const pending = await invite(address)
    let before = await snapshot(teamId)
    expect(await tryAccept(stranger, pending)).toBe('PT404')
    // The right user id but a token e-mail that differs: the e-mail decides, not the id.
    expect(await tryAccept({ ...invitee, email: `other-${address}` }, pending)).toBe('PT404')
    expect(await snapshot(teamId)).toBe(before)

    // Past expires_at but not yet marked by the job, and marked: both 409.
    await db.transaction((tx) =>
      tx.query(`update public.team_invitations set expires_at = now() - interval '1 minute' where id = $1`, [
        pending,
      ]),
    )
    before = await snapshot(teamId)
    expect(await tryAccept(invitee, pending)).toBe('PT409')
    expect(await snapshot(teamId)).toBe(before)
    await db.transaction((tx) =>
      tx.query(`update public.team_invitations set status = 'expired' where id = $1`, [pending]),
    )
    before = await snapshot(teamId)
    expect(await tryAccept(invitee, pending)).toBe('PT409')
    expect(await snapshot(teamId)).toBe(before)

    // Revoked (deleted by the owner): gone, so 404, exactly like one never sent.
    await db.transaction((tx) => tx.query('delete from public.team_invitations where id = $1', [pending]))
    const revoked = await invite(address)
    const deleted = await db.asUser(owner, (tx) =>
      tx.query('delete from public.team_invitations where id = $1 returning id', [revoked]),
    )
    expect(deleted).toHaveLength(1)
    before = await snapshot(teamId)
    expect(await tryAccept(invitee, revoked)).toBe('PT404')
    expect(await snapshot(teamId)).toBe(before)

    // So the refusals above are about e-mail, expiry and revocation: a live one is accepted.
    const live = await invite(address, 'admin')
    expect(await tryAccept(shouting, live)).toEqual([{ id: teamId }])
    expect((await members()).find((m) => m.user_id === invitee.sub)?.role).toBe('admin')
    const [status] = await db.transaction((tx) =>
      tx.query('select status from public.team_invitations where id = $1', [live]),
    )
    expect(status).toEqual({ status: 'accepted' })
  })
})

/** What a completed assessment stores in `results` (see scoring.ts). */
interface Scored {
  pillar_score: number
  force_scores: Record<string, number>
}

/**
 * The round aggregate computed here from raw rows, independently of the SQL: population sd,
 * consensus = clamp(1 − sd/50, 0, 1), means and sd rounded to 2 decimals and consensus to 4
 * (as the SQL rounds its numerics: half away from zero). Scores have two decimals, so sums are
 * taken in integer hundredths, exactly, as the SQL's numeric arithmetic is; a force enters
 * only when at least `min` members answered it. The pillar's min and max are each one
 * member's own score, so they are shown only from EXTREMES_FROM completions (with 3, mean,
 * min and max together give away all three scores).
 */
const EXTREMES_FROM = 5
/** The spread (sd, consensus) from 4: with 3, own score + mean + sd give the other two away. */
const SPREAD_FROM = 4

function expectedAggregate(rows: Scored[], min: number) {
  const stats = (values: number[]) => {
    const cents = values.map((v) => Math.round(v * 100))
    const n = cents.length
    const sum = cents.reduce((a, b) => a + b, 0)
    const squares = cents.reduce((a, b) => a + b * b, 0)
    const sdCents = Math.sqrt((n * squares - sum * sum) / (n * n))
    const spread = n >= SPREAD_FROM
    return {
      n,
      mean: Math.round(sum / n) / 100,
      sd: spread ? Math.round(sdCents) / 100 : null,
      consensus: spread
        ? Math.round(Math.min(1, Math.max(0, 1 - sdCents / 100 / 50)) * 10_000) / 10_000
        : null,
    }
  }
  const pillar = rows.map((r) => r.pillar_score)
  const p = stats(pillar)
  const byForce = new Map<string, number[]>()
  for (const row of rows) {
    for (const [key, value] of Object.entries(row.force_scores)) {
      byForce.set(key, [...(byForce.get(key) ?? []), value])
    }
  }
  const forces: Record<string, { n: number; mean: number; sd: number | null; consensus: number | null }> = {}
  for (const [key, values] of byForce) if (values.length >= min) forces[key] = stats(values)
  return {
    n: rows.length,
    pillar: {
      mean: p.mean,
      sd: p.sd,
      min: rows.length >= EXTREMES_FROM ? Math.min(...pillar) : null,
      max: rows.length >= EXTREMES_FROM ? Math.max(...pillar) : null,
    },
    forces,
  }
}

describe('privacy: results only as an aggregate, only once closed, only at the minimum size', () => {
  let owner: JwtClaims
  let people: JwtClaims[]
  let teamId: string
  let roundId: string
  const assessments: string[] = []
  const results = (user: JwtClaims, round = roundId) =>
    one<Record<string, unknown>>(user, 'select public.team_round_results($1) as v', [round])

  // Answers per member, question position → 1..5. Members 3 and 4 leave the last force
  // unanswered, so it has two answers — below the minimum, so it must stay out of the forces.
  const ANSWERS: number[][] = [
    [4, 5, 2, 3, 4, 4, 3, 5],
    [5, 5, 1, 2, 3, 4, 2, 2],
    [3, 4, 4, 4, 2, 5],
    [2, 3, 5, 5, 1, 3],
    [1, 1, 1, 1, 1, 1, 1, 1],
  ]
  const answersOf = (i: number) =>
    Object.fromEntries((ANSWERS[i] ?? []).map((answer, position) => [questions[position]?.id ?? '', answer]))

  beforeAll(async () => {
    owner = await newUser()
    people = await Promise.all(Array.from({ length: 5 }, () => newUser()))
    // Six members, so four completions never close the round by themselves.
    teamId = await teamOf(owner, people, 'Privacy')
    roundId = await openRound(owner, teamId)
    for (const person of people) assessments.push(await participate(person, teamId, roundId))
  }, DB_SETUP_TIMEOUT_MS)

  test('a member cannot select a teammate’s round assessment nor their participation row', async () => {
    const [me] = people as [JwtClaims]
    const seen = await db.asUser(me, async (tx) => ({
      assessments: await tx.query<{ id: string }>(
        'select id from public.assessment_sessions where id = any($1::uuid[]) order by id',
        [assessments],
      ),
      participants: await tx.query<{ user_id: string }>(
        'select user_id from public.team_round_participants where round_id = $1',
        [roundId],
      ),
    }))
    expect(seen).toEqual({ assessments: [{ id: assessments[0]! }], participants: [{ user_id: me.sub }] })
    // The rows are there: the table owner sees all five.
    const all = await db.transaction((tx) =>
      tx.query('select 1 from public.team_round_participants where round_id = $1', [roundId]),
    )
    expect(all).toHaveLength(5)
  })

  test('open: hidden at 2 and at 3 completions, and reading at n and n+1 yields no mean at all', async () => {
    const [a, b, c, d] = people as [JwtClaims, JwtClaims, JwtClaims, JwtClaims]
    const hidden = (completed: number) => ({
      status: 'open',
      members: 6,
      started: 5,
      completed,
      visible: false,
      min_completed: 3,
      results: null,
    })
    await complete(a, assessments[0]!, answersOf(0))
    await complete(b, assessments[1]!, answersOf(1))
    expect(await results(a)).toEqual(hidden(2))
    await complete(c, assessments[2]!, answersOf(2))
    const atThree = await results(d)
    expect(atThree).toEqual(hidden(3))
    await complete(d, assessments[3]!, answersOf(3))
    const atFour = await results(d)
    expect(atFour).toEqual(hidden(4))
    // The differencing attack, 4·mean₄ − 3·mean₃, needs a mean at both reads: there is none,
    // and the only thing that moved between them is the count.
    for (const answer of [atThree, atFour]) expect(JSON.stringify(answer)).not.toMatch(/mean|sd|consensus/)
    expect(atThree).toEqual({ ...atFour, completed: 3 })
    // Not even stored: no hidden aggregate exists for anyone to read.
    const [row] = await db.transaction((tx) =>
      tx.query<{ results: unknown }>('select results from public.team_rounds where id = $1', [roundId]),
    )
    expect(row?.results).toBeNull()
  })

  test('closed: the aggregate shows, equals an independent computation, names nobody, and stays frozen', async () => {
    const [a, , , , e] = people as [JwtClaims, JwtClaims, JwtClaims, JwtClaims, JwtClaims]
    await db.asUser(owner, (tx) => tx.query('select public.close_team_round($1)', [roundId]))
    const raw = await db.transaction((tx) =>
      tx.query<{ results: Scored }>(
        `select s.results from public.team_round_participants p
           join public.assessment_sessions s on s.id = p.assessment_id
          where p.round_id = $1 and s.status = 'completed'`,
        [roundId],
      ),
    )
    expect(raw).toHaveLength(4)
    const expected = expectedAggregate(
      raw.map((r) => r.results),
      3,
    )
    // The two-answer force is left out, so the minimum rule is exercised, not assumed.
    expect(Object.keys(expected.forces).sort()).toEqual(
      ['challenge_welcome', 'growth_mindset', 'psychological_safety'].sort(),
    )
    const shown = await results(a)
    expect(shown).toEqual({
      status: 'closed',
      members: 6,
      started: 5,
      completed: 4,
      visible: true,
      min_completed: 3,
      results: expected,
    })
    // Nobody's id and no assessment's id anywhere in the answer.
    const text = JSON.stringify(shown)
    for (const id of [owner.sub, ...people.map((p) => p.sub), ...assessments, teamId])
      expect(text).not.toContain(id)

    // A completion after closing changes nothing that is shown…
    await complete(e, assessments[4]!, answersOf(4))
    expect(await results(a)).toEqual(shown)
    // …though a live aggregate would have moved (so the comparison above can fail).
    const [live] = await db.transaction((tx) =>
      tx.query<{ v: { n: number } }>('select public._team_round_aggregate($1, now(), 3) as v', [roundId]),
    )
    expect(live?.v.n).toBe(5)
  })

  test('closed with 5 completions: the lowest and highest pillar scores show too', async () => {
    const five = await openRound(owner, teamId, 'Five')
    for (const [i, person] of people.entries()) {
      await complete(person, await participate(person, teamId, five), answersOf(i))
    }
    await db.asUser(owner, (tx) => tx.query('select public.close_team_round($1)', [five]))
    const raw = await db.transaction((tx) =>
      tx.query<{ results: Scored }>(
        `select s.results from public.team_round_participants p
           join public.assessment_sessions s on s.id = p.assessment_id
          where p.round_id = $1 and s.status = 'completed'`,
        [five],
      ),
    )
    const expected = expectedAggregate(
      raw.map((r) => r.results),
      3,
    )
    expect(expected.n).toBe(5)
    expect(expected.pillar.min).toBe(0) // the member who answered 1 everywhere
    const shown = await results(people[0]!, five)
    expect(shown).toMatchObject({ status: 'closed', completed: 5, visible: true, results: expected })
  })

  test('closed with 2 completions: nothing shows, and no aggregate is stored', async () => {
    const [a, b, c] = people as [JwtClaims, JwtClaims, JwtClaims]
    const small = await openRound(owner, teamId, 'Small')
    await complete(a, await participate(a, teamId, small), answersOf(0))
    await complete(b, await participate(b, teamId, small), answersOf(1))
    await participate(c, teamId, small)
    await db.asUser(owner, (tx) => tx.query('select public.close_team_round($1)', [small]))
    expect(await results(a, small)).toEqual({
      status: 'closed',
      members: 6,
      started: 3,
      completed: 2,
      visible: false,
      min_completed: 3,
      results: null,
    })
    const [row] = await db.transaction((tx) =>
      tx.query<{ results: unknown; final_completed: number }>(
        'select results, final_completed from public.team_rounds where id = $1',
        [small],
      ),
    )
    expect(row).toEqual({ results: null, final_completed: 2 })
  })
})

describe('the member cap under concurrency (PGlite)', () => {
  test('50 concurrent join_team calls into 10 free places admit exactly 10; a naive count-then-insert admits more', async () => {
    const [before] = await db.asService((tx) =>
      tx.query<{ max_members: number }>('select max_members from public.team_settings'),
    )
    const owner = await newUser()
    const teamId = await teamOf(owner, [], 'Full')
    const naiveOwner = await newUser()
    const naiveTeam = await teamOf(naiveOwner, [], 'Naive')
    const code = await rotateCode(owner, teamId)
    const joiners = await Promise.all(Array.from({ length: 50 }, () => newUser()))
    const count = async (team: string) => {
      const [row] = await db.asService((tx) =>
        tx.query<{ n: number }>('select count(*)::int as n from public.team_members where team_id = $1', [
          team,
        ]),
      )
      return row?.n ?? 0
    }
    // The owner holds one place: a cap of 11 leaves 10.
    const cap = (await count(teamId)) + 10
    await db.asService((tx) => tx.query('update public.team_settings set max_members = $1', [cap]))
    try {
      const outcomes = await Promise.all(
        joiners.map((user) =>
          db
            .asUser(user, (tx) => tx.query('select public.join_team($1)', [code]))
            .then(
              () => 'admitted',
              (error: unknown) => sqlState(error) ?? String(error),
            ),
        ),
      )
      expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(10)
      expect(outcomes.filter((o) => o === 'PT409')).toHaveLength(40)
      expect(await count(teamId)).toBe(cap)

      // The same 50, the naive way: count in one transaction, insert in another. Every count
      // runs before any insert lands, so every join sees room.
      const naive = await Promise.all(
        joiners.map(async (user) => {
          if ((await count(naiveTeam)) >= cap) return 'full'
          await db.asService((tx) =>
            tx.query(`insert into public.team_members (team_id, user_id, role) values ($1, $2, 'member')`, [
              naiveTeam,
              user.sub,
            ]),
          )
          return 'admitted'
        }),
      )
      const admitted = naive.filter((o) => o === 'admitted').length
      console.log(`naive count-then-insert on PGlite admitted ${admitted} into 10 free places`)
      expect(admitted).toBeGreaterThan(10)
      expect(await count(naiveTeam)).toBeGreaterThan(cap)
    } finally {
      await db.asService((tx) =>
        tx.query('update public.team_settings set max_members = $1', [before?.max_members ?? 200]),
      )
    }
  })
})
