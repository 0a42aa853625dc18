import { beforeAll, describe, expect, test } from 'bun:test'
import { createAuthUser, DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { attempt, rolledBack, withoutRls } from '@tests/helpers/sql'
import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { AssessmentStore } from '@/services/assessments/store'
import { ConversationStore } from '@/services/conversations/store'

// Ownership has two locks — row-level security in the migrations and the stores' own owner
// filters — and a test of the two together passes while either one is missing. Here each lock
// is tested on its own: (a) SQL as another user with nothing but the policies in the way, and
// (b) every store method over a connection on which RLS does not apply.

/**
 * Every owner-checked table and the column naming its owner. A new table holding a user's or a
 * team's rows goes here (and into the store tests below); the catalog test fails until it does.
 */
const OWNER_TABLES = {
  assessment_sessions: 'user_id',
  auth_revoked_sessions: 'user_id',
  conversation_messages: 'user_id',
  conversations: 'user_id',
  events: 'user_id',
  points_ledger: 'user_id',
  points_summary: 'user_id',
  user_badges: 'user_id',
  user_profiles: 'id',
} as const
type OwnerTable = keyof typeof OWNER_TABLES

/** Public reference data, readable by everyone (schema-rules.test.ts checks their policies). */
const REFERENCE_TABLES = [
  'assessment_questions',
  'badges',
  'force_connections',
  'forces',
  'knowledge_chunks',
  'knowledge_documents',
  'levels',
  'pillars',
]

/**
 * Team-scoped tables: their rows belong to a team and are reached through membership (the
 * security-definer helper public.team_role), not through an owner column, so the attacks below
 * (aimed at "A's rows" by user id) do not fit them. tests/integration/teams-sql.test.ts attacks
 * each one as a non-member and as a plain member, and teams-bola.test.ts does over HTTP; the
 * catalog test here checks that every policy on them goes through membership or the caller's
 * own id, so a new team table with an open or owner-less policy fails here first.
 */
const TEAM_TABLES = ['team_invitations', 'team_members', 'team_round_participants', 'team_rounds', 'teams']

/**
 * Reference data written by admins: everyone reads the published rows, admins every row, and
 * only admins write — no owner column, so the attacks below do not fit it either.
 * content-visibility.test.ts runs the matrix (anonymous, user, admin × each status) over HTTP
 * and as SQL; the catalog test below checks that each policy is gated so.
 */
const ADMIN_TABLES = ['content']

/** Server-only tables: no policy and no privilege for users at all (teams-sql.test.ts tries). */
const SERVER_TABLES = ['llm_usage', 'team_settings']

let db: Database
let alice: JwtClaims
let bob: JwtClaims
const mine = { assessment: '', conversation: '' }
const bobs = { assessment: '', conversation: '' }
let questionId: string

/** Per table, an assignment that would change a row of A's if an update reached one. */
const ASSIGNMENTS: Record<OwnerTable, string> = {
  assessment_sessions: `responses = '{}'::jsonb`,
  auth_revoked_sessions: 'expires_at = now()',
  conversation_messages: `content = 'rewritten'`,
  conversations: `title = 'rewritten'`,
  events: `page = 'rewritten'`,
  points_ledger: 'points = 100000',
  points_summary: 'points = 100000',
  user_badges: 'earned_at = now()',
  user_profiles: `display_name = 'rewritten'`,
}

/** One insert per table that plants a row owned by A (in A's conversation, for messages). */
const INSERTS: Record<OwnerTable, [string, () => unknown[]]> = {
  assessment_sessions: [
    `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'divsexp', 'egalitarian')`,
    () => [alice.sub],
  ],
  auth_revoked_sessions: [
    `insert into public.auth_revoked_sessions (revocation_key, user_id, expires_at)
     values ('session:' || gen_random_uuid(), $1, now() + interval '1 hour')`,
    () => [alice.sub],
  ],
  conversation_messages: [
    `insert into public.conversation_messages (conversation_id, user_id, role, content)
     values ($2, $1, 'assistant', 'forged')`,
    () => [alice.sub, mine.conversation],
  ],
  conversations: [
    `insert into public.conversations (user_id, title, expires_at) values ($1, 'planted', now() + interval '1 day')`,
    () => [alice.sub],
  ],
  events: [
    `insert into public.events (user_id, id, type, occurred_at) values ($1, gen_random_uuid(), 'page_view', now())`,
    () => [alice.sub],
  ],
  points_ledger: [
    `insert into public.points_ledger (user_id, points, reason, cause_key, created_at)
     values ($1, 100000, 'daily_activity', 'planted:' || gen_random_uuid(), now())`,
    () => [alice.sub],
  ],
  points_summary: [
    'insert into public.points_summary (user_id, points) values ($1, 100000)',
    () => [alice.sub],
  ],
  user_badges: [
    `insert into public.user_badges (user_id, badge_key, earned_at) values ($1, 'points_5000', now())`,
    () => [alice.sub],
  ],
  user_profiles: [
    `insert into public.user_profiles (id, email) values ($1, 'planted@example.test')`,
    () => [alice.sub],
  ],
}

const tables = Object.keys(OWNER_TABLES) as OwnerTable[]

/** Everything `user` owns, read in `tx` (as a role that sees every row). */
async function ownedRows(tx: Tx, user: JwtClaims): Promise<string> {
  const all: Record<string, unknown[]> = {}
  for (const table of tables) {
    all[table] = await tx.query(
      `select * from public.${table} where ${OWNER_TABLES[table]} = $1 order by 1`,
      [user.sub],
    )
  }
  return JSON.stringify(all)
}

/** Everything A owns, as the service sees it: compared before and after each attempt. */
const snapshotOf = (user: JwtClaims) => db.asService((tx) => ownedRows(tx, user))

/**
 * Every way B might reach A's rows of one table, each one tried: select, update and delete aimed
 * at A's rows, an insert of a row owned by A, and an update and a delete of the whole table with
 * no WHERE and no RETURNING — for those Postgres applies only the UPDATE or DELETE policy, not
 * the SELECT one, so they test those policies on their own. Then, still inside the transaction
 * (which the caller rolls back), what A owns is read back as the table owner.
 */
async function attackAll(tx: Tx, table: OwnerTable) {
  const column = OWNER_TABLES[table]
  const [insert, insertParams] = INSERTS[table]
  const outcomes = {
    select: await attempt(tx, `select * from public.${table} where ${column} = $1`, [alice.sub]),
    update: await attempt(
      tx,
      `update public.${table} set ${ASSIGNMENTS[table]} where ${column} = $1 returning 1`,
      [alice.sub],
    ),
    delete: await attempt(tx, `delete from public.${table} where ${column} = $1 returning 1`, [alice.sub]),
    insert: await attempt(tx, insert, insertParams()),
    updateAll: await attempt(tx, `update public.${table} set ${ASSIGNMENTS[table]}`, []),
    deleteAll: await attempt(tx, `delete from public.${table}`, []),
  }
  await tx.query('reset role')
  return { outcomes, after: await ownedRows(tx, alice) }
}

/**
 * Runs `fn` as `user` with every privilege on the owner tables granted to `authenticated`, and
 * rolls everything back: the policies are then the only thing between the user and the rows.
 * `withoutRlsOn` switches RLS off on tables whose policies would otherwise stand in for the one
 * under test (a policy's subquery is itself filtered by the other table's policies).
 */
function asUserWithPoliciesOnly<T>(
  user: JwtClaims,
  fn: (tx: Tx) => Promise<T>,
  withoutRlsOn: OwnerTable[] = [],
): Promise<T> {
  return rolledBack(
    (inner) =>
      db.transaction(async (tx) => {
        for (const table of tables) {
          await tx.exec(`grant select, insert, update, delete on public.${table} to authenticated`)
        }
        for (const table of withoutRlsOn)
          await tx.exec(`alter table public.${table} disable row level security`)
        await tx.query(
          `select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`,
          [JSON.stringify({ ...user, role: 'authenticated' })],
        )
        return inner(tx)
      }),
    fn,
  )
}

async function seed(
  user: JwtClaims,
  store: { assessments: AssessmentStore; conversations: ConversationStore },
) {
  await db.asService((tx) =>
    tx.query('insert into public.user_profiles (id, email) values ($1, $2) on conflict (id) do nothing', [
      user.sub,
      user.email,
    ]),
  )
  await db.asService((tx) =>
    tx.query(
      `insert into public.auth_revoked_sessions (revocation_key, user_id, expires_at)
       values ('session:' || gen_random_uuid(), $1, now() + interval '1 hour')`,
      [user.sub],
    ),
  )
  // An event, a daily-activity award (ledger row and summary) and a badge: rows of every
  // progress table, written the only way they are (as the service).
  await db.asService(async (tx) => {
    await tx.query(
      `insert into public.events (user_id, id, type, occurred_at) values ($1, gen_random_uuid(), 'page_view', now())`,
      [user.sub],
    )
    await tx.query('select public.progress_note_activity($1, now())', [user.sub])
    await tx.query(
      `insert into public.user_badges (user_id, badge_key, earned_at) values ($1, 'streak_3', now())`,
      [user.sub],
    )
  })
  const assessment = await store.assessments.insert(user, 'divsexp', 'egalitarian')
  expect(await store.assessments.answer(user, assessment.id, questionId, 4)).toEqual({
    ok: true,
    answeredCount: 1,
  })
  const conversation = crypto.randomUUID()
  await store.conversations.saveExchange(user, {
    conversationId: conversation,
    create: { title: 'Mine', pillarId: 'divsexp', mode: 'egalitarian' },
    userText: 'How is my group doing?',
    assistantText: 'Fine.',
    provider: 'local',
    model: 'local',
    usage: { input_tokens: 1, output_tokens: 1 },
    ttlDays: 7,
  })
  return { assessment: assessment.id, conversation }
}

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  const [a, b] = [await createAuthUser(db), await createAuthUser(db)]
  alice = { sub: a.id, email: a.email }
  bob = { sub: b.id, email: b.email }
  const [question] = await db.asService((tx) =>
    tx.query<{ id: string }>(
      `select id from public.assessment_questions where pillar_id = 'divsexp' order by id limit 1`,
    ),
  )
  questionId = question?.id ?? ''
  const stores = { assessments: new AssessmentStore(db), conversations: new ConversationStore(db) }
  Object.assign(mine, await seed(alice, stores))
  Object.assign(bobs, await seed(bob, stores))
}, DB_SETUP_TIMEOUT_MS)

test('every public table is an owner table tested here, a team table, admin-written, server-only, or public reference data', async () => {
  const rows = await db.transaction((tx) =>
    tx.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' and c.relname not like 'scratch%' order by 1`,
    ),
  )
  expect(rows.map((r) => r.name)).toEqual(
    [...tables, ...TEAM_TABLES, ...ADMIN_TABLES, ...SERVER_TABLES, ...REFERENCE_TABLES].sort(),
  )
})

test('admin-written tables: every write policy asks public.is_admin(); reads are published rows or admins; anon writes nothing', async () => {
  const [policies, anonWrites] = await db.transaction(async (tx) => [
    await tx.query<{ table: string; name: string; cmd: string; qual: string | null; check: string | null }>(
      `select tablename as table, policyname as name, cmd, qual, with_check as check
         from pg_policies where schemaname = 'public' and tablename = any($1::text[])`,
      [ADMIN_TABLES],
    ),
    await tx.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relname = any($1::text[])
          and (has_any_column_privilege('anon', c.oid, 'INSERT, UPDATE, REFERENCES')
               or has_table_privilege('anon', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))`,
      [ADMIN_TABLES],
    ),
  ])
  const admin = (expression: string | null) => expression !== null && /is_admin\(\)/.test(expression)
  const publishedOnly = (expression: string | null) => expression === "(status = 'published'::text)"
  const ungated = policies
    .filter((p) =>
      p.cmd === 'SELECT'
        ? !(admin(p.qual) || publishedOnly(p.qual))
        : !(p.cmd === 'INSERT' ? admin(p.check) : admin(p.qual) && (p.check === null || admin(p.check))),
    )
    .map((p) => `${p.table}:${p.name}`)
  expect(ungated).toEqual([])
  // Each table can be read and written by an admin through its policies (else RLS would be the
  // only thing the feature ran on, unseen).
  for (const table of ADMIN_TABLES) {
    expect(
      policies
        .filter((p) => p.table === table)
        .map((p) => p.cmd)
        .sort(),
    ).toEqual(['DELETE', 'INSERT', 'SELECT', 'SELECT', 'UPDATE'])
  }
  expect(anonWrites).toEqual([])
})

test('team tables: every policy asks public.team_role() or names the caller; server-only tables are out of reach', async () => {
  const [policies, reachable] = await db.transaction(async (tx) => [
    await tx.query<{ table: string; name: string; cmd: string; qual: string | null; check: string | null }>(
      `select tablename as table, policyname as name, cmd, qual, with_check as check
         from pg_policies where schemaname = 'public' and tablename = any($1::text[])`,
      [[...TEAM_TABLES, ...SERVER_TABLES]],
    ),
    await tx.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relname = any($1::text[])
          and (has_any_column_privilege('authenticated', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
               or has_table_privilege('authenticated', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
               or has_any_column_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
               or has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'))`,
      [SERVER_TABLES],
    ),
  ])
  // The expression that decides which rows a policy reaches — USING, or WITH CHECK for an
  // insert — must ask membership of the definer helper (never by reading team_members), or
  // name the caller (their own participation, an invitation to their token e-mail). An
  // update's WITH CHECK may be about the new values only: its USING already gated the row.
  const gated = (expression: string | null) =>
    expression !== null && (/team_role\(/.test(expression) || /auth\.(uid|jwt)\(\)/.test(expression))
  const ungated = policies
    .filter((p) => !gated(p.cmd === 'INSERT' ? p.check : p.qual))
    .map((p) => `${p.table}:${p.name}`)
  expect(ungated).toEqual([])
  // Every team table has a policy to read it by (else the feature could not work as a user)…
  expect(
    policies
      .filter((p) => p.cmd === 'SELECT')
      .map((p) => p.table)
      .sort(),
  ).toEqual(TEAM_TABLES)
  // …and a server-only table has none, and no privilege for users.
  expect(reachable).toEqual([])
})

describe('(a) row-level security alone: SQL as another user', () => {
  test('as deployed (db.asUser): B sees none of A’s rows, changes none, plants none', async () => {
    const before = await snapshotOf(alice)
    for (const table of tables) {
      const { outcomes, after } = await rolledBack(
        (inner) => db.asUser(bob, inner),
        (tx) => attackAll(tx, table),
      )
      // Where the grants allow a statement at all, the policies must leave A's rows out of it;
      // where they do not, it is refused outright (42501).
      const expected = DEPLOYED[table]
      expect({ table, ...outcomes }).toEqual({
        table,
        ...expected,
        updateAll: expected.update,
        deleteAll: expected.delete,
      })
      expect({ table, after }).toEqual({ table, after: before })
    }
  })

  test('policies only (every privilege granted, rolled back): still nothing seen, changed or planted', async () => {
    const before = await snapshotOf(alice)
    for (const table of tables) {
      const { outcomes, after } = await asUserWithPoliciesOnly(bob, (tx) => attackAll(tx, table))
      // The insert's 42501 is now "new row violates row-level security policy": no privilege is missing.
      expect({ table, ...outcomes }).toEqual({
        table,
        select: [],
        update: [],
        delete: [],
        insert: '42501',
        updateAll: [],
        deleteAll: [],
      })
      expect({ table, after }).toEqual({ table, after: before })
    }
  })

  test('conversation_messages’ own policy holds without the conversations policy under it', async () => {
    const before = await snapshotOf(alice)
    const { outcomes, after } = await asUserWithPoliciesOnly(
      bob,
      (tx) => attackAll(tx, 'conversation_messages'),
      ['conversations'],
    )
    expect(outcomes).toEqual({
      select: [],
      update: [],
      delete: [],
      insert: '42501',
      updateAll: [],
      deleteAll: [],
    })
    expect(after).toBe(before)
  })

  test('the same policies let B reach B’s own rows (so the refusals above are about ownership)', async () => {
    const own = await asUserWithPoliciesOnly(bob, async (tx) => {
      const seen: Record<string, number> = {}
      for (const table of tables) {
        const rows = await tx.query(`select 1 from public.${table} where ${OWNER_TABLES[table]} = $1`, [
          bob.sub,
        ])
        seen[table] = rows.length
      }
      return seen
    })
    // auth_revoked_sessions is server-only: no policy at all, not even for the owner.
    expect(own).toEqual({
      assessment_sessions: 1,
      auth_revoked_sessions: 0,
      conversation_messages: 2,
      conversations: 1,
      events: 1,
      points_ledger: 1,
      points_summary: 1,
      user_badges: 1,
      user_profiles: 1,
    })
  })

  test('submit_assessment_answer (security definer, so RLS does not apply) refuses B on A’s assessment', async () => {
    const before = await snapshotOf(alice)
    const outcome = await db.asUser(bob, (tx) =>
      attempt(tx, 'select public.submit_assessment_answer($1, $2, 1)', [mine.assessment, questionId]),
    )
    expect(outcome).toBe('PT404')
    expect(await snapshotOf(alice)).toBe(before)
  })
})

/** What B gets on A's rows through the real grants and policies. */
const DEPLOYED: Record<OwnerTable, Record<'select' | 'update' | 'delete' | 'insert', unknown[] | string>> = {
  assessment_sessions: { select: [], update: '42501', delete: [], insert: '42501' },
  auth_revoked_sessions: { select: '42501', update: '42501', delete: '42501', insert: '42501' },
  conversation_messages: { select: [], update: '42501', delete: '42501', insert: '42501' },
  conversations: { select: [], update: '42501', delete: [], insert: '42501' },
  events: { select: [], update: '42501', delete: '42501', insert: '42501' },
  points_ledger: { select: [], update: '42501', delete: '42501', insert: '42501' },
  points_summary: { select: [], update: '42501', delete: '42501', insert: '42501' },
  user_badges: { select: [], update: '42501', delete: '42501', insert: '42501' },
  user_profiles: { select: [], update: [], delete: '42501', insert: '42501' },
}

describe('(b) the stores’ owner filters alone: RLS off, B calls every method on A’s data', () => {
  const open = () => withoutRls(db)

  test('the connection really bypasses RLS (else this block would prove nothing)', async () => {
    const rows = await open().asUser(bob, (tx) =>
      tx.query('select id from public.conversations where user_id = $1', [alice.sub]),
    )
    expect(rows).toEqual([{ id: mine.conversation }])
  })

  test('AssessmentStore: find, list, answer, complete and remove see only B’s rows', async () => {
    const store = new AssessmentStore(open())
    const before = await snapshotOf(alice)
    expect(await store.find(bob, mine.assessment)).toBeUndefined()
    expect((await store.list(bob, { limit: 100 })).map((r) => r.id)).toEqual([bobs.assessment])
    expect((await store.list(bob, { limit: 100, status: 'in_progress' })).map((r) => r.id)).toEqual([
      bobs.assessment,
    ])
    expect(await store.answer(bob, mine.assessment, questionId, 1)).toEqual({
      ok: false,
      refusal: 'not_found',
    })
    // Scoring must never even see A's responses.
    const scored: unknown[] = []
    const score = (row: unknown) => {
      scored.push(row)
      return null
    }
    expect(await store.complete(bob.sub, mine.assessment, score)).toEqual({ ok: false, refusal: 'not_found' })
    expect(scored).toEqual([])
    expect(await store.remove(bob, mine.assessment)).toBe(false)
    expect(await snapshotOf(alice)).toBe(before)
    // B's own row is reachable through the same methods.
    expect((await store.find(bob, bobs.assessment))?.id).toBe(bobs.assessment)
  })

  test('ConversationStore: find, list, messages, recentMessages, saveExchange and remove see only B’s rows', async () => {
    const store = new ConversationStore(open())
    const before = await snapshotOf(alice)
    expect(await store.find(bob, mine.conversation)).toBeUndefined()
    expect((await store.list(bob, 100)).map((r) => r.id)).toEqual([bobs.conversation])
    expect(await store.messages(bob, mine.conversation, 100)).toEqual([])
    expect(await store.recentMessages(bob, mine.conversation, 100)).toEqual([])
    await expect(
      store.saveExchange(bob, {
        conversationId: mine.conversation,
        userText: 'Injected question',
        assistantText: 'Injected answer',
        provider: 'local',
        model: 'local',
        usage: { input_tokens: 1, output_tokens: 1 },
        ttlDays: 7,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await store.remove(bob, mine.conversation)).toBe(false)
    expect(await snapshotOf(alice)).toBe(before)
    expect((await store.messages(bob, bobs.conversation, 100)).map((m) => m.role)).toEqual([
      'user',
      'assistant',
    ])
  })
})
