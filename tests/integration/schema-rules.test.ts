import { beforeAll, describe, expect, test } from 'bun:test'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database } from '@/lib/db/database'

// Rules every migration must keep, checked against the catalog after all of them ran.
let db: Database

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
    // Public reference data only: the framework, the knowledge base, the question bank.
    const openReads = policies.filter((p) => p.qual === 'true').map((p) => `${p.table}:${p.cmd}`)
    expect(openReads.sort()).toEqual(
      [
        'assessment_questions:SELECT',
        'force_connections:SELECT',
        'forces:SELECT',
        'knowledge_chunks:SELECT',
        'knowledge_documents:SELECT',
        'pillars:SELECT',
      ].sort(),
    )
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
})
