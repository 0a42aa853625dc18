import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type PostgresServer, requirePostgresInCi, startPostgres } from '@tests/helpers/postgres-server'
import { SQL } from 'bun'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, type JwtClaims, withRoles } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPostgres } from '@/lib/db/postgres'
import { LocalAccountStore } from '@/services/accounts/local-accounts-store'
import { RoundStore } from '@/services/teams/rounds-store'

// PGlite is one connection, so its "concurrent" joins take turns and any member cap looks
// exact. Here the teams functions run on a real PostgreSQL server with 20 connections, where
// transactions truly overlap and only the row lock in _team_admit (and the participation
// key) keep the rules. Each safe flow is paired with the naive one run the same way, which
// must break — else this file would pass without the locks and prove nothing.
// Debian has no pgvector: the migrations up to assessments, then the teams one.
const JOINS = 200
const PLACES = 50
const PARTICIPATIONS = 20
const TEAMS_MIGRATION = '20261201000100'

const available = requirePostgresInCi()

let server: PostgresServer
let db: Database

async function newUsers(count: number): Promise<JwtClaims[]> {
  const users = Array.from({ length: count }, () => {
    const sub = crypto.randomUUID()
    return { sub, email: `${sub}@example.test` }
  })
  await db.transaction(async (tx) => {
    for (const user of users) {
      await tx.query('insert into auth.users (id, email) values ($1, $2)', [user.sub, user.email])
    }
  })
  return users
}

async function one<T>(user: JwtClaims, sql: string, params: unknown[]): Promise<T> {
  const [row] = await db.asUser(user, (tx) => tx.query<{ v: T }>(sql, params))
  return row?.v as T
}

async function teamWithCode(owner: JwtClaims): Promise<{ teamId: string; code: string }> {
  const teamId = await one<string>(owner, `select public.create_team('Concurrency', null) as v`, [])
  const code = await one<string>(owner, 'select code as v from public.rotate_team_invite_code($1)', [teamId])
  return { teamId, code }
}

const memberCount = async (teamId: string) => {
  const [row] = await db.asService((tx) =>
    tx.query<{ n: number }>('select count(*)::int as n from public.team_members where team_id = $1', [
      teamId,
    ]),
  )
  return Number(row?.n)
}

beforeAll(async () => {
  if (!available) return
  server = await startPostgres()
  const driver = await openPostgres({ url: server.url, prepare: true, maxConnections: 20 })
  await bootstrap(driver)
  db = withRoles(driver)
  const vectorFree = readMigrations(MIGRATIONS_DIR).filter(
    (m) => m.version <= '20261122000300' || m.version === TEAMS_MIGRATION,
  )
  expect(vectorFree.map((m) => m.version)).toContain(TEAMS_MIGRATION)
  await migrate(db, vectorFree)
}, 60_000)

afterAll(async () => {
  await db?.close()
  await server?.stop()
})

describe.skipIf(!available)(`real PostgreSQL, 20 connections`, () => {
  test(`${JOINS} concurrent join_team calls into ${PLACES} free places admit exactly ${PLACES}; a naive count-then-insert admits more`, async () => {
    const [owner, naiveOwner] = (await newUsers(2)) as [JwtClaims, JwtClaims]
    const joiners = await newUsers(JOINS)
    const { teamId, code } = await teamWithCode(owner)
    const { teamId: naiveTeam } = await teamWithCode(naiveOwner)
    // The owner holds one place; this server is ours alone, so the setting needs no restoring.
    const cap = PLACES + 1
    await db.asService((tx) => tx.query('update public.team_settings set max_members = $1', [cap]))

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
    const tally = (values: string[]) =>
      Object.fromEntries([...new Set(values)].map((v) => [v, values.filter((o) => o === v).length]))
    expect(tally(outcomes)).toEqual({ admitted: PLACES, PT409: JOINS - PLACES })
    expect(await memberCount(teamId)).toBe(cap)

    // The same joins the naive way: count, then insert if there is room, in one READ
    // COMMITTED transaction each. Counts taken side by side all see room.
    const naive = await Promise.all(
      joiners.map((user) =>
        db.asService(async (tx) => {
          const [row] = await tx.query<{ n: number }>(
            'select count(*)::int as n from public.team_members where team_id = $1',
            [naiveTeam],
          )
          if (Number(row?.n) >= cap) return 'full'
          await tx.query(
            `insert into public.team_members (team_id, user_id, role) values ($1, $2, 'member')`,
            [naiveTeam, user.sub],
          )
          return 'admitted'
        }),
      ),
    )
    const admitted = naive.filter((o) => o === 'admitted').length
    console.log(`naive count-then-insert on PostgreSQL admitted ${admitted} into ${PLACES} free places`)
    expect(admitted).toBeGreaterThan(PLACES)
    expect(await memberCount(naiveTeam)).toBeGreaterThan(cap)
  }, 60_000)

  test(`${PARTICIPATIONS} concurrent participations by one member: one link, one assessment; a naive select-then-insert makes more`, async () => {
    const [owner, member, naiveMember] = (await newUsers(3)) as [JwtClaims, JwtClaims, JwtClaims]
    const { teamId, code } = await teamWithCode(owner)
    await one(member, 'select public.join_team($1) as v', [code])
    await one(naiveMember, 'select public.join_team($1) as v', [code])
    const openRound = (name: string) =>
      one<string>(
        owner,
        `insert into public.team_rounds (team_id, name, pillar_id, mode) values ($1, $2, 'divsexp', 'egalitarian')
         returning id as v`,
        [teamId, name],
      )
    const roundId = await openRound('Safe')
    const naiveRound = await openRound('Naive')
    const store = new RoundStore(db)

    // The flow RoundService.participate runs: the caller's link if there is one, else
    // RoundStore.participate (new assessment, link on conflict do nothing, loser's removed).
    const ids = await Promise.all(
      Array.from({ length: PARTICIPATIONS }, () =>
        db.asUser(member, async (tx) => {
          const existing = await store.myAssessment(tx, roundId, member.sub)
          if (existing) return existing
          const round = await store.round(tx, teamId, roundId)
          if (!round) throw new Error('round not visible to its member')
          return store.participate(tx, round, member.sub)
        }),
      ),
    )
    expect(new Set(ids).size).toBe(1)
    const stored = async (user: JwtClaims, round: string) => {
      const [row] = await db.asService((tx) =>
        tx.query<{ links: number; assessments: number }>(
          `select (select count(*)::int from public.team_round_participants where round_id = $2 and user_id = $1) as links,
                  (select count(*)::int from public.assessment_sessions where user_id = $1 and pillar_id = 'divsexp') as assessments`,
          [user.sub, round],
        ),
      )
      return { links: Number(row?.links), assessments: Number(row?.assessments) }
    }
    expect(await stored(member, roundId)).toEqual({ links: 1, assessments: 1 })

    // Naive: "is there a link? no → create an assessment and link it", nothing removed when
    // another call linked first. Every call that looked before the first commit leaves an
    // assessment behind that no round will ever count.
    await Promise.all(
      Array.from({ length: PARTICIPATIONS }, () =>
        db.asUser(naiveMember, async (tx) => {
          const [link] = await tx.query(
            'select assessment_id from public.team_round_participants where round_id = $1 and user_id = $2',
            [naiveRound, naiveMember.sub],
          )
          if (link) return
          const [assessment] = await tx.query<{ id: string }>(
            `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'divsexp', 'egalitarian') returning id`,
            [naiveMember.sub],
          )
          await tx.query(
            `insert into public.team_round_participants (round_id, user_id, assessment_id) values ($1, $2, $3)
             on conflict (round_id, user_id) do nothing`,
            [naiveRound, naiveMember.sub, assessment?.id],
          )
        }),
      ),
    )
    const naive = await stored(naiveMember, naiveRound)
    console.log(`naive participation on PostgreSQL left ${naive.assessments} assessments for one link`)
    expect(naive.links).toBe(1)
    expect(naive.assessments).toBeGreaterThan(1)
  }, 60_000)

  test('concurrent transfers and closes: one wins, the rest are refused cleanly (403 / 409), never a 500', async () => {
    const [owner, ...others] = (await newUsers(11)) as [JwtClaims, ...JwtClaims[]]
    const { teamId, code } = await teamWithCode(owner)
    for (const user of others) await one(user, 'select public.join_team($1) as v', [code])
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (error: unknown) => sqlState(error) ?? String(error),
      )
    // The owner hands the team to ten members at once: the role is checked after the team row
    // is locked, so each later call sees it is no longer the owner.
    const transfers = await Promise.all(
      others.map((to) =>
        settle(
          db.asUser(owner, (tx) =>
            tx.query('select public.transfer_team_ownership($1, $2)', [teamId, to.sub]),
          ),
        ),
      ),
    )
    expect(transfers.filter((o) => o === 'ok')).toHaveLength(1)
    expect(transfers.filter((o) => o !== 'ok')).toEqual(Array(others.length - 1).fill('PT403'))
    const [owners] = await db.asService((tx) =>
      tx.query<{ n: number }>(
        `select count(*)::int as n from public.team_members where team_id = $1 and role = 'owner'`,
        [teamId],
      ),
    )
    expect(owners?.n).toBe(1)

    // Ten closes of one round at once: one closes it, the others are told it is closed.
    const [newOwner] = await db.asService((tx) =>
      tx.query<{ id: string }>('select owner_id as id from public.teams where id = $1', [teamId]),
    )
    const closer = others.find((u) => u.sub === newOwner?.id) as JwtClaims
    const roundId = await one<string>(
      closer,
      `insert into public.team_rounds (team_id, name, pillar_id, mode) values ($1, 'Close', 'status', 'hierarchical') returning id as v`,
      [teamId],
    )
    const closes = await Promise.all(
      Array.from({ length: 10 }, () =>
        settle(db.asUser(closer, (tx) => tx.query('select public.close_team_round($1)', [roundId]))),
      ),
    )
    expect(closes.sort()).toEqual([...Array(9).fill('PT409'), 'ok'])
  }, 60_000)

  test('a transfer racing the new owner leaving, and a join racing the team’s deletion, are refused cleanly', async () => {
    const [owner, leaver, joiner] = (await newUsers(3)) as [JwtClaims, JwtClaims, JwtClaims]
    const { teamId, code } = await teamWithCode(owner)
    await one(leaver, 'select public.join_team($1) as v', [code])
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (error: unknown) => sqlState(error) ?? String(error),
      )
    // The leave holds its row while the transfer to the leaver starts (and must wait for it).
    let transfer: Promise<string> | undefined
    await db.asUser(leaver, async (tx) => {
      await tx.query('delete from public.team_members where team_id = $1 and user_id = $2', [
        teamId,
        leaver.sub,
      ])
      transfer = settle(
        db.asUser(owner, (t2) =>
          t2.query('select public.transfer_team_ownership($1, $2)', [teamId, leaver.sub]),
        ),
      )
      await Bun.sleep(300)
    })
    expect(await transfer).toBe('PT404')
    const [state] = await db.asService((tx) =>
      tx.query<{ owner: string; owners: number }>(
        `select t.owner_id as owner, (select count(*)::int from public.team_members m where m.team_id = t.id and m.role = 'owner') as owners
           from public.teams t where t.id = $1`,
        [teamId],
      ),
    )
    expect(state).toEqual({ owner: owner.sub, owners: 1 })

    // The deletion holds the team while a join with its code starts: the join finds no team.
    let join: Promise<string> | undefined
    await db.asUser(owner, async (tx) => {
      await tx.query('delete from public.teams where id = $1', [teamId])
      join = settle(db.asUser(joiner, (t2) => t2.query('select public.join_team($1)', [code])))
      await Bun.sleep(300)
    })
    expect(await join).toBe('PT404')
  }, 60_000)

  test('closing, per-team settling and the hourly job at once never deadlock', async () => {
    const [owner] = (await newUsers(1)) as [JwtClaims]
    const outcomes: string[] = []
    for (let run = 0; run < 15; run++) {
      const { teamId } = await teamWithCode(owner)
      const rounds: string[] = []
      for (let i = 0; i < 6; i++) {
        rounds.push(
          await one<string>(
            owner,
            `insert into public.team_rounds (team_id, name, pillar_id, mode) values ($1, 'Due', 'status', 'hierarchical') returning id as v`,
            [teamId],
          ),
        )
      }
      await db.asService((tx) =>
        tx.query(`update public.team_rounds set closes_at = now() - interval '1 minute' where team_id = $1`, [
          teamId,
        ]),
      )
      const results = await Promise.all(
        [
          db.asUser(owner, (tx) => tx.query('select public.close_team_round($1)', [rounds[5]])),
          db.asService((tx) => tx.query('select public.settle_team_rounds($1)', [teamId])),
          db.asService((tx) => tx.query('select public.settle_team_rounds(null)')),
          db.asUser(owner, (tx) => tx.query('select public.team_round_results($1)', [rounds[0]])),
        ].map((p) =>
          p.then(
            () => 'ok',
            (error: unknown) => sqlState(error) ?? String(error),
          ),
        ),
      )
      outcomes.push(...results)
      const [open] = await db.asService((tx) =>
        tx.query<{ n: number }>(
          `select count(*)::int as n from public.team_rounds where team_id = $1 and status = 'open'`,
          [teamId],
        ),
      )
      expect(open?.n).toBe(0)
    }
    // The close may find its round already closed by a settle (409); nothing else.
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'PT409')).toEqual([])
  }, 60_000)
})

// Not teams, but the same need for truly overlapping transactions: it shares this file's server
// (starting another PostgreSQL for one test would cost the suite seconds).
describe.skipIf(!available)('real PostgreSQL: a local sign-in racing the account deletion', () => {
  test('a sign-in whose session insert meets a deletion under way gets no session and no 500; the unlocked insert gets a foreign-key violation', async () => {
    const store = new LocalAccountStore(db)
    await store.ensureSchema()
    const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'
    const deleter = new SQL({ url: server.url, max: 1 })
    const refresh = () => Bun.SHA256.hash(crypto.randomUUID(), 'hex')
    try {
      // The deletion has removed the user (cascading to its credential) but not yet committed,
      // while a sign-in that already verified the password opens its session.
      const race = async (open: (id: string) => Promise<unknown>) => {
        const [user] = await newUsers(1)
        const id = user?.sub ?? ''
        await db.transaction((tx) =>
          tx.query('insert into auth.local_credentials (user_id, password_hash) values ($1, $2)', [id, hash]),
        )
        const conn = await deleter.reserve()
        try {
          await conn.unsafe('begin')
          await conn.unsafe('delete from auth.users where id = $1', [id])
          const opening = open(id).then(
            (value) => ({ value }),
            (error: unknown) => ({ error: sqlState(error) ?? String(error) }),
          )
          await Bun.sleep(200) // the insert is now waiting on the deletion's row lock
          await conn.unsafe('commit')
          return await opening
        } finally {
          conn.release()
        }
      }
      expect(await race((id) => store.openSession(id, crypto.randomUUID(), refresh(), hash))).toEqual({
        value: null,
      })
      // The same insert without the lock first (the code before): the credential still shows in
      // its snapshot, and the foreign-key check fails once the deletion commits.
      const naive = await race((id) =>
        db.transaction((tx) =>
          tx.query(
            `insert into auth.local_sessions (id, user_id, created_at)
             select $1, $2, clock_timestamp()
              where exists (select 1 from auth.local_credentials where user_id = $2 and password_hash = $3)`,
            [crypto.randomUUID(), id, hash],
          ),
        ),
      )
      expect(naive).toEqual({ error: '23503' })
    } finally {
      await deleter.close()
    }
  }, 30_000)
})
