import { beforeAll, describe, expect, test } from 'bun:test'
import { createAuthUser, DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database, JwtClaims, Tx } from '@/lib/db/database'

// The database's own locks, tested in SQL with no server code in front: what a client calling
// Supabase's REST API directly with a user's token (or the anon key) could do.
let db: Database
let alice: JwtClaims
let bob: JwtClaims
let aliceAssessment: string

const asAnon = <T>(fn: (tx: Tx) => Promise<T>) =>
  db.transaction(async (tx) => {
    await tx.query(
      `select set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('role', 'anon', true)`,
    )
    return fn(tx)
  })

const snapshot = (id: string) =>
  db.transaction((tx) =>
    tx.query<{ row: unknown }>('select to_jsonb(s) as row from public.assessment_sessions s where id = $1', [
      id,
    ]),
  )

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  const a = await createAuthUser(db)
  const b = await createAuthUser(db)
  alice = { sub: a.id }
  bob = { sub: b.id }
  const [row] = await db.asUser(alice, (tx) =>
    tx.query<{ id: string }>(
      `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'popularity', 'egalitarian') returning id`,
      [alice.sub],
    ),
  )
  aliceAssessment = row?.id ?? ''
  await db.asUser(alice, (tx) =>
    tx.query(`select public.submit_assessment_answer($1, 'popularity.social_support.1', 4)`, [
      aliceAssessment,
    ]),
  )
}, DB_SETUP_TIMEOUT_MS)

const submit = (claims: JwtClaims, id: string, question: string, answer: number | null) =>
  db.asUser(claims, (tx) =>
    tx.query<{ n: number }>('select public.submit_assessment_answer($1, $2, $3) as n', [
      id,
      question,
      answer,
    ]),
  )

describe('submit_assessment_answer', () => {
  test('the owner records an answer and gets the new answered count', async () => {
    const [row] = await submit(alice, aliceAssessment, 'popularity.warmth_acceptance.2', 5)
    expect(row?.n).toBe(2)
  })

  test('anon cannot execute it at all', async () => {
    const before = await snapshot(aliceAssessment)
    await expect(
      asAnon((tx) =>
        tx.query(`select public.submit_assessment_answer($1, 'popularity.social_support.1', 1)`, [
          aliceAssessment,
        ]),
      ),
    ).rejects.toThrow('permission denied for function submit_assessment_answer')
    expect(await snapshot(aliceAssessment)).toEqual(before)
  })

  test('another authenticated user changes nothing and learns nothing (same outcome as a missing row)', async () => {
    const before = await snapshot(aliceAssessment)
    const theirs = await submit(bob, aliceAssessment, 'popularity.social_support.1', 1).catch((e) => e)
    const missing = await submit(bob, crypto.randomUUID(), 'popularity.social_support.1', 1).catch((e) => e)
    expect((theirs as { code: string }).code).toBe('PT404')
    expect((missing as { code: string }).code).toBe('PT404')
    expect((theirs as Error).message).toBe((missing as Error).message)
    expect(await snapshot(aliceAssessment)).toEqual(before)
  })

  test('a forged argument cannot redirect it: there is no user parameter, only auth.uid()', async () => {
    const [fn] = await db.transaction((tx) =>
      tx.query<{ args: string; definer: boolean; config: string[] | null }>(
        `select pg_get_function_identity_arguments(p.oid) as args, p.prosecdef as definer, p.proconfig as config
           from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.proname = 'submit_assessment_answer'`,
      ),
    )
    expect(fn?.args).toBe('p_assessment_id uuid, p_question_id text, p_answer integer')
    expect(fn?.definer).toBe(true)
    expect(fn?.config).toContain('search_path=""')
  })

  test('answers out of range, unknown questions, questions of another pillar → PT400', async () => {
    for (const [question, answer] of [
      ['popularity.social_support.1', 0],
      ['popularity.social_support.1', 6],
      ['popularity.social_support.1', null],
      ['popularity.social_support.9', 3],
      ['status.formal_authority.1', 3],
    ] as const) {
      const error = await submit(alice, aliceAssessment, question, answer).catch((e) => e)
      expect((error as { code: string }).code).toBe('PT400')
    }
  })

  test('no identity → refused', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`select set_config('role', 'authenticated', true)`)
        return tx.query(`select public.submit_assessment_answer($1, 'popularity.social_support.1', 3)`, [
          aliceAssessment,
        ])
      }),
    ).rejects.toThrow('not authenticated')
  })

  test('a completed assessment → PT409', async () => {
    const [row] = await db.asUser(bob, (tx) =>
      tx.query<{ id: string }>(
        `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'status', 'hierarchical') returning id`,
        [bob.sub],
      ),
    )
    await db.asService((tx) =>
      tx.query(
        `update public.assessment_sessions set status = 'completed', completed_at = now(), results = '{}' where id = $1`,
        [row?.id],
      ),
    )
    const error = await submit(bob, row?.id ?? '', 'status.formal_authority.1', 3).catch((e) => e)
    expect((error as { code: string }).code).toBe('PT409')
  })
})

describe('assessment_sessions table privileges and RLS', () => {
  test('users cannot UPDATE rows directly, not even their own (answers go through the function)', async () => {
    const before = await snapshot(aliceAssessment)
    await expect(
      db.asUser(alice, (tx) =>
        tx.query(`update public.assessment_sessions set results = '{"pillar_score":100}' where id = $1`, [
          aliceAssessment,
        ]),
      ),
    ).rejects.toThrow('permission denied')
    expect(await snapshot(aliceAssessment)).toEqual(before)
  })

  test('users cannot create rows for someone else, or pre-completed ones', async () => {
    await expect(
      db.asUser(alice, (tx) =>
        tx.query(
          `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'status', 'hierarchical')`,
          [bob.sub],
        ),
      ),
    ).rejects.toThrow('row-level security')
    await expect(
      db.asUser(alice, (tx) =>
        tx.query(
          `insert into public.assessment_sessions (user_id, pillar_id, mode, status, results, completed_at)
           values ($1, 'status', 'hierarchical', 'completed', '{}', now())`,
          [alice.sub],
        ),
      ),
    ).rejects.toThrow('permission denied')
  })

  test('the database refuses a pillar outside its mode', async () => {
    await expect(
      db.asUser(alice, (tx) =>
        tx.query(
          `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'status', 'egalitarian')`,
          [alice.sub],
        ),
      ),
    ).rejects.toThrow('assessment_sessions_pillar_in_mode')
  })

  test('users see and delete only their own rows', async () => {
    const seen = await db.asUser(bob, (tx) =>
      tx.query('select id from public.assessment_sessions where id = $1', [aliceAssessment]),
    )
    expect(seen).toEqual([])
    const deleted = await db.asUser(bob, (tx) =>
      tx.query('delete from public.assessment_sessions where id = $1 returning id', [aliceAssessment]),
    )
    expect(deleted).toEqual([])
    expect(await snapshot(aliceAssessment)).toHaveLength(1)
  })

  test('anon can read nothing', async () => {
    await expect(asAnon((tx) => tx.query('select * from public.assessment_sessions'))).rejects.toThrow(
      'permission denied',
    )
    await expect(asAnon((tx) => tx.query('select * from public.assessment_questions'))).rejects.toThrow(
      'permission denied',
    )
  })
})
