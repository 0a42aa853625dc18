import { beforeAll, describe, expect, test } from 'bun:test'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { rolledBack } from '@tests/helpers/sql'
import type { Database, Tx } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'

// Rules every migration must keep, checked against the catalog after all of them ran.
let db: Database

/**
 * Policies in schema public that read their own table — the old system's member policies did
 * (`team_id in (select team_id from team_members where user_id = auth.uid())` on
 * team_members), and Postgres then refuses every query on the table with "infinite recursion
 * detected in policy". Found two ways:
 * - byText: the deparsed USING / WITH CHECK expressions, for `from`/`join` of the same table.
 *   (pg_depend cannot tell: Postgres folds a subquery's whole-table reference into the column
 *   references of the policy's own expression.)
 * - byRecursion: what Postgres itself says — every command planned (EXPLAIN, nothing runs) as
 *   `authenticated` with every privilege granted, so each table's policies are expanded;
 *   42P17 names the table, which also catches recursion through a second table's policy.
 * `tx` must be a transaction the caller rolls back (it grants privileges).
 */
async function selfReadingPolicies(tx: Tx): Promise<{ byText: string[]; byRecursion: string[] }> {
  const policies = await tx.query<{ table: string; name: string; qual: string | null; check: string | null }>(
    `select tablename as table, policyname as name, qual, with_check as check
       from pg_policies where schemaname = 'public'`,
  )
  const byText = policies
    .filter((p) => {
      // Deparsed names are schema-qualified only when not on the search path; either way.
      const own = new RegExp(`\\b(from|join)\\s+(public\\.)?"?${p.table}"?(\\s|\\)|$)`, 'i')
      return own.test(p.qual ?? '') || own.test(p.check ?? '')
    })
    .map((p) => `${p.table}:${p.name}`)
    .sort()

  const tables = await tx.query<{ name: string; column: string }>(
    `select c.relname as name, a.attname as column
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum = 1
      where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity order by 1`,
  )
  for (const { name } of tables) await tx.exec(`grant all on public."${name}" to authenticated`)
  await tx.query(
    `select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`,
    [JSON.stringify({ sub: crypto.randomUUID(), role: 'authenticated' })],
  )
  const byRecursion: string[] = []
  for (const { name, column } of tables) {
    for (const [command, sql] of [
      ['select', `explain select * from public."${name}"`],
      ['insert', `explain insert into public."${name}" default values`],
      ['update', `explain update public."${name}" set "${column}" = "${column}"`],
      // A WHERE reads the rows, so the SELECT policies apply to the delete too.
      ['delete', `explain delete from public."${name}" where "${column}" is not null`],
    ]) {
      await tx.query('savepoint plan')
      try {
        await tx.query(sql ?? '')
        await tx.query('release savepoint plan')
      } catch (error) {
        await tx.query('rollback to savepoint plan')
        const state = sqlState(error)
        if (state !== '42P17') throw error
        byRecursion.push(`${name}:${command}`)
      }
    }
  }
  await tx.query('reset role')
  return { byText, byRecursion: byRecursion.sort() }
}

/** Every table of the teams feature (a new one must be added here, and gets these checks). */
const TEAM_TABLES = [
  'team_invitations',
  'team_members',
  'team_round_participants',
  'team_rounds',
  'team_settings',
  'teams',
]

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
}, DB_SETUP_TIMEOUT_MS)

describe('every migration keeps the house rules', () => {
  test('RLS on every public table; no policy with check (true); open reads only on reference data', async () => {
    const [tables, policies] = await db.transaction(async (tx) => [
      await tx.query<{ name: string; rls: boolean }>(
        `select c.relname as name, c.relrowsecurity as rls from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r' and c.relname not like 'scratch%'`,
      ),
      await tx.query<{ table: string; cmd: string; qual: string | null; check: string | null }>(
        `select tablename as table, cmd, qual, with_check as check from pg_policies where schemaname = 'public'`,
      ),
    ])
    expect(tables.filter((t) => !t.rls)).toEqual([])
    expect(policies.filter((p) => p.check === 'true')).toEqual([])
    // Public reference data only: the framework, the knowledge base, the question bank, the
    // level and badge catalogs.
    const openReads = policies.filter((p) => p.qual === 'true').map((p) => `${p.table}:${p.cmd}`)
    expect(openReads.sort()).toEqual(
      [
        'assessment_questions:SELECT',
        'badges:SELECT',
        'levels:SELECT',
        'force_connections:SELECT',
        'forces:SELECT',
        'knowledge_chunks:SELECT',
        'knowledge_documents:SELECT',
        'pillars:SELECT',
      ].sort(),
    )
  })

  test('no policy in public reads its own table (the recursion the old system had)', async () => {
    const found = await rolledBack((fn) => db.transaction(fn), selfReadingPolicies)
    expect(found).toEqual({ byText: [], byRecursion: [] })
  })

  test('the self-read check flags a policy like the old system’s (rolled back)', async () => {
    const found = await rolledBack(
      (fn) => db.transaction(fn),
      async (tx) => {
        await tx.exec(`create policy scratch_recursive on public.team_members for select to authenticated
        using (team_id in (select m.team_id from public.team_members m where m.user_id = (select auth.uid())))`)
        await tx.exec(`create policy scratch_recursive_join on public.team_rounds for insert to authenticated
        with check (exists (select 1 from public.teams t join public.team_rounds r on r.team_id = t.id
                             where r.team_id = team_id))`)
        return selfReadingPolicies(tx)
      },
    )
    expect(found).toEqual({
      byText: ['team_members:scratch_recursive', 'team_rounds:scratch_recursive_join'],
      // A SELECT policy applies to every command that reads rows. The insert policy reads
      // team_rounds under its SELECT policy, which has no subquery, so Postgres plans it — a
      // recursion only once that policy grows one; the text check flags it already.
      byRecursion: ['team_members:delete', 'team_members:select', 'team_members:update'],
    })
    // And it was rolled back.
    expect(await rolledBack((fn) => db.transaction(fn), selfReadingPolicies)).toEqual({
      byText: [],
      byRecursion: [],
    })
  })

  test('every team table has RLS, and anon holds no privilege on it nor on any team function', async () => {
    const [tables, functions] = await db.transaction(async (tx) => [
      await tx.query<{ name: string; rls: boolean; anon: boolean }>(
        `select c.relname as name, c.relrowsecurity as rls,
                has_any_column_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
                  or has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') as anon
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r' and c.relname like 'team%'
          order by 1`,
      ),
      await tx.query<{ name: string }>(
        `select p.oid::regprocedure::text as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.proname like '%team%' and has_function_privilege('anon', p.oid, 'execute')`,
      ),
    ])
    expect(tables.map((t) => t.name)).toEqual(TEAM_TABLES)
    expect(tables.filter((t) => !t.rls || t.anon)).toEqual([])
    expect(functions).toEqual([])
  })

  test('every security-definer function in public pins its search_path', async () => {
    const unpinned = await db.transaction((tx) =>
      tx.query<{ name: string }>(
        `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.prosecdef
            and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`,
      ),
    )
    expect(unpinned).toEqual([])
  })
  test('updated_at strictly increases with every update, even within one clock tick (it is a version)', async () => {
    // Inside one transaction now() never moves: the sharpest case of the embedded database's
    // millisecond clock. Content's ETag and its knowledge-document version are built from it.
    const [naive, real] = await rolledBack(db.transaction, async (tx) => {
      await tx.query(`create function pg_temp.naive_touch() returns trigger language plpgsql
                        as $$ begin new.updated_at := now(); return new; end $$`)
      const stamps: string[][] = []
      for (const fn of ['pg_temp.naive_touch', 'public.touch_updated_at']) {
        await tx.query(
          'create temp table versioned (id int primary key, n int, updated_at timestamptz) on commit drop',
        )
        await tx.query(
          `create trigger touch before update on versioned for each row execute function ${fn}()`,
        )
        await tx.query('insert into versioned values (1, 0, now())')
        const seen: string[] = []
        for (let i = 1; i <= 5; i++) {
          const [row] = await tx.query<{ v: string }>(
            'update versioned set n = $1 where id = 1 returning updated_at::text as v',
            [i],
          )
          seen.push(String(row?.v))
        }
        stamps.push(seen)
        await tx.query('drop table versioned')
      }
      return stamps
    })
    expect(new Set(naive).size).toBe(1)
    expect(new Set(real).size).toBe(5)
    expect([...(real ?? [])].sort()).toEqual(real ?? [])
  })
})
