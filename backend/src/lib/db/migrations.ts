import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SqlDriver } from '@/lib/db/database'

/** A file in `supabase/migrations`, named `<version>_<name>.sql` as the Supabase CLI expects. */
export interface MigrationFile {
  version: string
  name: string
  file: string
  sql: string
}

export interface MigrationStatus {
  applied: number
  pending: string[]
}

/** A migration that Postgres rejected: start-up stops and names the file and the error. */
export class MigrationError extends Error {
  constructor(
    readonly file: string,
    readonly postgresMessage: string,
  ) {
    super(`migration ${file} failed: ${postgresMessage}`)
    this.name = 'MigrationError'
  }
}

const FILE_PATTERN = /^(\d+)_(.+)\.sql$/

/** Reads the migration files in version order. Files not named like the CLI wants are an error. */
export function readMigrations(dir: string): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'))
  const migrations = files.map((file) => {
    const match = FILE_PATTERN.exec(file)
    if (!match?.[1] || !match[2]) {
      throw new MigrationError(file, 'file name must be <version>_<name>.sql, e.g. 20260101000000_init.sql')
    }
    return { version: match[1], name: match[2], file, sql: readFileSync(join(dir, file), 'utf8') }
  })
  // Versions are digit strings (usually 14-digit timestamps): compare by length, then lexically.
  migrations.sort((a, b) => a.version.length - b.version.length || a.version.localeCompare(b.version))
  for (let i = 1; i < migrations.length; i++) {
    const [previous, current] = [migrations[i - 1], migrations[i]]
    if (previous && current && previous.version === current.version) {
      throw new MigrationError(current.file, `version ${current.version} is also used by ${previous.file}`)
    }
  }
  return migrations
}

// The Supabase CLI's own history table, so `supabase migration list` and this runner agree.
const HISTORY_DDL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (
    version text not null primary key,
    statements text[],
    name text
  );`

// Serializes runners across instances that start together against one server.
const LOCK_KEY = 7_314_201_553

async function appliedVersions(driver: SqlDriver): Promise<Set<string>> {
  const rows = await driver.transaction((tx) =>
    tx.query<{ version: string }>('select version from supabase_migrations.schema_migrations'),
  )
  return new Set(rows.map((r) => r.version))
}

/**
 * Applies every pending migration in version order, each in its own transaction together with
 * its history row, so a failure leaves no half-applied file behind. Idempotent on restart.
 */
export async function migrate(
  driver: SqlDriver,
  migrations: MigrationFile[],
  options: {
    /** Called once before anything is applied, with the files still pending (start-up logs it). */
    onPending?: (files: string[]) => void
  } = {},
): Promise<string[]> {
  await driver.transaction((tx) => tx.exec(HISTORY_DDL))
  const done = await appliedVersions(driver)
  options.onPending?.(migrations.filter((m) => !done.has(m.version)).map((m) => m.file))
  const applied: string[] = []
  for (const migration of migrations) {
    if (done.has(migration.version)) continue
    const ran = await driver
      .transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock($1)', [LOCK_KEY])
        const [already] = await tx.query(
          'select 1 from supabase_migrations.schema_migrations where version = $1',
          [migration.version],
        )
        if (already) return false
        await tx.exec(migration.sql)
        await tx.query(
          'insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, array[$2]::text[], $3)',
          [migration.version, migration.sql, migration.name],
        )
        return true
      })
      .catch((error: unknown) => {
        throw new MigrationError(migration.file, error instanceof Error ? error.message : String(error))
      })
    if (ran) applied.push(migration.file)
  }
  return applied
}

/** How many files are applied and which are still pending, for `/ready`. */
export async function migrationStatus(
  driver: SqlDriver,
  migrations: MigrationFile[],
): Promise<MigrationStatus> {
  const done = await appliedVersions(driver)
  return {
    applied: migrations.filter((m) => done.has(m.version)).length,
    pending: migrations.filter((m) => !done.has(m.version)).map((m) => m.file),
  }
}
