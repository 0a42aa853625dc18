import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type PostgresServer, requirePostgresInCi, startPostgres } from '@tests/helpers/postgres-server'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, type Tx, withRoles } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPostgres } from '@/lib/db/postgres'
import { AssessmentStore } from '@/services/assessments/store'
import { LedgerStore } from '@/services/progress/ledger-store'

// PGlite runs one transaction at a time, so award races cannot happen there. On a real
// PostgreSQL server with 20 connections they do: the unique cause key and the per-user summary
// lock are what keep each cause to one award. Each naive version runs beside its real one and
// awards more. (Debian has no pgvector for this server: only vector-free migrations run.)
const N = 20
const POINTS_MIGRATION = '20261201000700'
const available = requirePostgresInCi()

let server: PostgresServer
let db: Database
const at = '2033-01-05T10:00:00.000Z'

beforeAll(async () => {
  if (!available) return
  server = await startPostgres()
  const driver = await openPostgres({ url: server.url, prepare: true, maxConnections: N })
  await bootstrap(driver)
  db = withRoles(driver)
  const needed = ['20261201000100', '20261201000200', '20261201000500', POINTS_MIGRATION]
  const vectorFree = readMigrations(MIGRATIONS_DIR).filter(
    (m) => m.version <= '20261122000300' || needed.includes(m.version),
  )
  expect(vectorFree.map((m) => m.version)).toContain(POINTS_MIGRATION)
  await migrate(db, vectorFree)
}, 60_000)

afterAll(async () => {
  await db?.close()
  await server?.stop()
})

async function newUserId(): Promise<string> {
  const id = crypto.randomUUID()
  await db.transaction((tx) =>
    tx.query('insert into auth.users (id, email) values ($1, $2)', [id, `${id}@pg.test`]),
  )
  return id
}

/** Every question of the pillar answered with 3, as submit_assessment_answer stores them. */
const ANSWERED = `(select jsonb_object_agg(q.id, jsonb_build_object('answer', 3))
                     from public.assessment_questions q where q.pillar_id = $2)`

/** A fully answered, completed (or in-progress) assessment of `pillar`, as the service writes it. */
async function assessment(userId: string, pillar = 'indrecip', status = 'completed'): Promise<string> {
  const [row] = await db.asService((tx) =>
    tx.query<{ id: string }>(
      status === 'completed'
        ? `insert into public.assessment_sessions (user_id, pillar_id, mode, status, responses, results, completed_at)
           values ($1, $2, 'egalitarian', 'completed', ${ANSWERED}, '{"pillar_score": 50, "force_scores": {}}', now())
           returning id`
        : `insert into public.assessment_sessions (user_id, pillar_id, mode, responses)
           values ($1, $2, 'egalitarian', ${ANSWERED}) returning id`,
      [userId, pillar],
    ),
  )
  return row?.id ?? ''
}

const ledgerOf = (userId: string) =>
  db.asService((tx) =>
    tx.query<{ reason: string; points: number }>(
      `select reason, points from public.points_ledger where user_id = $1 and pillar_id is not null order by id`,
      [userId],
    ),
  )

const totalOf = async (userId: string) =>
  Number(
    (
      await db.asService((tx) =>
        tx.query<{ points: number }>('select points from public.points_summary where user_id = $1', [userId]),
      )
    )[0]?.points,
  )

describe.skipIf(!available)(`real PostgreSQL, ${N} connections`, () => {
  test(`${N} concurrent completions of one assessment: one completes, one award`, async () => {
    const userId = await newUserId()
    const id = await assessment(userId, 'indrecip', 'in_progress')
    const store = new AssessmentStore(db)
    const ledger = new LedgerStore(db)
    const results = { pillar_score: 50, force_scores: {}, answered: 1, total: 8 }
    const outcomes = await Promise.all(
      Array.from({ length: N }, () =>
        store.complete(
          userId,
          id,
          () => results,
          (tx, row) => ledger.assessmentCompleted(tx, row.user_id, row.id, new Date(at)),
        ),
      ),
    )
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    expect(await ledgerOf(userId)).toEqual([{ reason: 'assessment_completed', points: 100 }])
    expect(await totalOf(userId)).toBe(155)
  })

  test(`the award function itself, called ${N} times at once for one cause, awards once`, async () => {
    const userId = await newUserId()
    const id = await assessment(userId)
    await Promise.all(
      Array.from({ length: N }, () =>
        db.asService((tx) =>
          tx.query('select public.progress_assessment_completed($1, $2, $3)', [userId, id, at]),
        ),
      ),
    )
    expect(await ledgerOf(userId)).toEqual([{ reason: 'assessment_completed', points: 100 }])
    expect(await totalOf(userId)).toBe(155)
  })

  test('a naive check-then-insert award, raced the same way, awards more than once', async () => {
    await db.transaction((tx) =>
      tx.query(
        `create table if not exists public.scratch_naive_ledger (user_id uuid, cause_key text, points int)`,
      ),
    )
    const userId = await newUserId()
    await Promise.all(
      Array.from({ length: N }, () =>
        db.transaction(async (tx) => {
          const [seen] = await tx.query<{ n: number }>(
            `select count(*)::int as n from public.scratch_naive_ledger where user_id = $1 and cause_key = 'assessment:x'`,
            [userId],
          )
          // The gap a real request has between its read and its write (the award's other work).
          await tx.query('select pg_sleep(0.02)')
          if (Number(seen?.n) === 0) {
            await tx.query(`insert into public.scratch_naive_ledger values ($1, 'assessment:x', 100)`, [
              userId,
            ])
          }
        }),
      ),
    )
    const [row] = await db.transaction((tx) =>
      tx.query<{ n: number }>(
        'select count(*)::int as n from public.scratch_naive_ledger where user_id = $1',
        [userId],
      ),
    )
    console.log(`naive check-then-insert on PostgreSQL awarded ${row?.n} times for one cause`)
    expect(Number(row?.n)).toBeGreaterThan(1)
  })

  test('three assessments of one pillar completed at once: one 100, one 50, the third nothing that day (the summary lock), for every user', async () => {
    const users = await Promise.all(Array.from({ length: N / 2 }, () => newUserId()))
    const pairs = await Promise.all(
      users.map(async (u) => [u, await assessment(u), await assessment(u), await assessment(u)] as const),
    )
    await Promise.all(
      pairs.flatMap(([u, a, b, c]) =>
        [a, b, c].map((id) =>
          db.asService((tx) =>
            tx.query('select public.progress_assessment_completed($1, $2, $3)', [u, id, at]),
          ),
        ),
      ),
    )
    for (const u of users) {
      const rows = (await ledgerOf(u)).map((r) => r.points).sort()
      expect({ u, rows, total: await totalOf(u) }).toEqual({ u, rows: [100, 50], total: 205 })
    }
  })

  test('the same decision without the lock (read the ledger, then insert) gives both 100', async () => {
    const users = await Promise.all(Array.from({ length: N / 2 }, () => newUserId()))
    const firsts = await Promise.all(
      users.map(async (u) => {
        const ids = [await assessment(u), await assessment(u)]
        const awards = await Promise.all(
          ids.map((id) =>
            db.asService(async (tx) => {
              const [prior] = await tx.query<{ n: number }>(
                `select count(*)::int as n from public.points_ledger where user_id = $1 and pillar_id = 'indrecip'`,
                [u],
              )
              await tx.query('select pg_sleep(0.02)')
              const points = Number(prior?.n) > 0 ? 50 : 100
              await tx.query(
                `insert into public.points_ledger (user_id, points, reason, cause_key, pillar_id, assessment_id, created_at)
                 values ($1, $2, 'assessment_completed', $3, 'indrecip', $4, now())`,
                [u, points, `assessment:${id}`, id],
              )
              return points
            }),
          ),
        )
        return awards.filter((p) => p === 100).length
      }),
    )
    console.log(
      `naive first-of-pillar decision: ${firsts.filter((n) => n > 1).length} of ${users.length} users got 100 twice`,
    )
    expect(firsts.some((n) => n > 1)).toBe(true)
  })

  test('concurrent daily notes of one user on one day: one daily award, streak 1', async () => {
    const userId = await newUserId()
    await Promise.all(
      Array.from({ length: N }, () =>
        db.asService((tx) => tx.query('select public.progress_note_activity($1, $2)', [userId, at])),
      ),
    )
    const [row] = await db.asService((tx) =>
      tx.query<{ points: number; streak_current: number; n: number }>(
        `select s.points, s.streak_current, (select count(*)::int from public.points_ledger l where l.user_id = s.user_id) as n
           from public.points_summary s where s.user_id = $1`,
        [userId],
      ),
    )
    expect({ points: row?.points, streak: row?.streak_current, rows: row?.n }).toEqual({
      points: 5,
      streak: 1,
      rows: 1,
    })
  })

  test('transactions freezing several rounds with shared members in opposite orders: no deadlock; the unserialised awards deadlock (40P01)', async () => {
    const [u1, u2] = [await newUserId(), await newUserId()]
    /** A team of `member` and two others, with a round all three completed: it will publish. */
    const round = async (member: string): Promise<{ round: string; members: string[] }> => {
      const members = [member, await newUserId(), await newUserId()]
      const ids = await Promise.all(members.map((m) => assessment(m)))
      const [row] = await db.transaction(async (tx) => {
        const [team] = await tx.query<{ id: string }>(
          `insert into public.teams (name, owner_id) values ('pg round team', $1) returning id`,
          [members[1]],
        )
        for (const [i, m] of members.entries()) {
          await tx.query('insert into public.team_members (team_id, user_id, role) values ($1, $2, $3)', [
            team?.id,
            m,
            i === 1 ? 'owner' : 'member',
          ])
        }
        const rows = await tx.query<{ id: string }>(
          `insert into public.team_rounds (team_id, name, pillar_id, mode, created_by)
           values ($1, 'R', 'indrecip', 'egalitarian', $2) returning id`,
          [team?.id, members[1]],
        )
        for (const [i, m] of members.entries()) {
          await tx.query(
            'insert into public.team_round_participants (round_id, user_id, assessment_id) values ($1, $2, $3)',
            [rows[0]?.id, m, ids[i]],
          )
        }
        return rows
      })
      return { round: row?.id ?? '', members }
    }
    // T1 freezes a round with u2 and then one with u1; T2 one with u1 and then one with u2. Each
    // holds its first round's summaries while it waits (pg_sleep) for the other to take its own.
    const race = async (freeze: (tx: Tx, r: { round: string; members: string[] }) => Promise<void>) => {
      const plans = [
        [await round(u2), await round(u1)],
        [await round(u1), await round(u2)],
      ]
      const outcomes = await Promise.all(
        plans.map((plan) =>
          db
            .transaction(async (tx) => {
              await tx.query(`set local deadlock_timeout = '100ms'`)
              await freeze(tx, plan[0] as { round: string; members: string[] })
              await tx.query('select pg_sleep(0.3)')
              await freeze(tx, plan[1] as { round: string; members: string[] })
              return 'ok'
            })
            .catch((error: unknown) => sqlState(error) ?? String(error)),
        ),
      )
      return { outcomes, rounds: plans.flat().map((p) => p.round) }
    }
    const fixed = await race(async (tx, r) => {
      await tx.query('select public._team_round_freeze($1, now())', [r.round])
    })
    expect(fixed.outcomes).toEqual(['ok', 'ok'])
    const paid = await db.asService((tx) =>
      tx.query<{ user_id: string; n: number }>(
        `select user_id, count(*)::int as n from public.points_ledger
          where user_id = any ($1::uuid[]) and reason = 'team_round_completed' group by user_id order by user_id`,
        [[u1, u2]],
      ),
    )
    expect(paid.map((r) => [r.user_id, r.n])).toEqual([u1, u2].sort().map((u) => [u, 2]))
    // The same two transactions awarding each round's members in user-id order but without the
    // one round-awards lock (the earlier progress_team_round_completed): one is the deadlock victim.
    const naive = await race(async (tx, r) => {
      for (const m of [...r.members].sort()) {
        await tx.query(`select public._progress_award($1, 30, 'team_round_completed', $2, now())`, [
          m,
          `team_round:${r.round}`,
        ])
      }
    })
    console.log(`unserialised round awards on PostgreSQL: ${JSON.stringify(naive.outcomes)}`)
    expect(naive.outcomes).toContain('40P01')
  })
})
