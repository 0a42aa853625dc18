import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import type { Database } from '@/lib/db/database'
import { MigrationError, migrate, migrationStatus, readMigrations } from '@/lib/db/migrations'

let db: Database
let firstRun: string[]
const scratch = mkdtempSync(join(tmpdir(), 'pilar-migrations-'))

beforeAll(async () => {
  ;({ db, firstRun } = await sharedDatabase())
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true })
  await db.transaction((tx) =>
    tx.exec(`drop table if exists public.scratch_ok;
             delete from supabase_migrations.schema_migrations where version like '99990%';`),
  )
})

describe('migrations', () => {
  test('a fresh database gets every file, recorded in the Supabase CLI history table', async () => {
    const files = readMigrations(MIGRATIONS_DIR)
    expect(firstRun).toEqual(files.map((f) => f.file))
    const rows = await db.transaction((tx) =>
      tx.query<{ version: string; name: string; statements: string[] }>(
        'select version, name, statements from supabase_migrations.schema_migrations order by version',
      ),
    )
    const ours = rows.filter((r) => files.some((f) => f.version === r.version))
    expect(ours.map((r) => `${r.version}_${r.name}.sql`)).toEqual(files.map((f) => f.file))
    expect(ours[0]?.statements[0]).toContain('create table public.user_profiles')
  })

  test('a second run applies nothing and the status has nothing pending', async () => {
    const files = readMigrations(MIGRATIONS_DIR)
    expect(await migrate(db, files)).toEqual([])
    expect(await migrationStatus(db, files)).toEqual({ applied: files.length, pending: [] })
  })

  test('bootstrap is skipped once Supabase-provided objects exist', async () => {
    expect(await bootstrap(db)).toBe('skipped')
  })

  test('a failing migration names the file and the Postgres error, and leaves nothing behind', async () => {
    writeFileSync(join(scratch, '99990000000001_scratch_ok.sql'), 'create table public.scratch_ok (id int);')
    writeFileSync(
      join(scratch, '99990000000002_scratch_bad.sql'),
      'create table public.scratch_bad (id int);\nselect * from public.no_such_table;',
    )
    const files = readMigrations(scratch)
    const error = await migrate(db, files).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as MigrationError).file).toBe('99990000000002_scratch_bad.sql')
    expect((error as MigrationError).message).toContain('relation "public.no_such_table" does not exist')

    // The good file stayed applied; the bad one rolled back whole, history row included.
    expect(await migrationStatus(db, files)).toEqual({
      applied: 1,
      pending: ['99990000000002_scratch_bad.sql'],
    })
    const [exists] = await db.transaction((tx) =>
      tx.query<{ bad: string | null; ok: string | null }>(
        `select to_regclass('public.scratch_bad')::text as bad, to_regclass('public.scratch_ok')::text as ok`,
      ),
    )
    expect(exists).toEqual({ bad: null, ok: 'scratch_ok' })
  })

  test('files not named <version>_<name>.sql, or with a repeated version, are refused', () => {
    const dir = mkdtempSync(join(scratch, 'names-'))
    writeFileSync(join(dir, 'init.sql'), 'select 1;')
    expect(() => readMigrations(dir)).toThrow('init.sql')
    rmSync(join(dir, 'init.sql'))
    writeFileSync(join(dir, '1_a.sql'), 'select 1;')
    writeFileSync(join(dir, '1_b.sql'), 'select 1;')
    expect(() => readMigrations(dir)).toThrow('version 1 is also used by 1_a.sql')
  })

  test('versions sort numerically, not as text', () => {
    const dir = mkdtempSync(join(scratch, 'order-'))
    for (const name of ['10_c.sql', '9_b.sql', '20240101000000_d.sql', '1_a.sql'])
      writeFileSync(join(dir, name), '')
    expect(readMigrations(dir).map((m) => m.name)).toEqual(['a', 'b', 'c', 'd'])
  })
})
