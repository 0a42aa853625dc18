import type { SqlDriver } from '@/lib/db/database'
import bootstrapSql from '@/lib/db/sql/bootstrap.sql' with { type: 'text' }

export type BootstrapResult = 'skipped' | 'applied'

/**
 * Creates what Supabase provides (API roles, `auth` schema and functions, `extensions` schema)
 * on a database that lacks it. Skipped when all of it already exists, as on Supabase itself.
 */
export async function bootstrap(driver: SqlDriver): Promise<BootstrapResult> {
  return driver.transaction(async (tx) => {
    const [state] = await tx.query<{ present: boolean }>(`
      select (select count(*) from pg_roles where rolname in ('anon', 'authenticated', 'service_role')) = 3
        and exists (select 1 from pg_namespace where nspname = 'extensions')
        and exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'auth' and p.proname in ('uid', 'role', 'jwt')
                    having count(distinct p.proname) = 3)
        and to_regclass('auth.users') is not null as present`)
    if (state?.present) return 'skipped'
    await tx.exec(bootstrapSql)
    return 'applied'
  })
}

/** True when `auth.users` was made by our bootstrap (so no Supabase Auth fills it). */
export async function ownsAuthUsers(driver: SqlDriver): Promise<boolean> {
  const [row] = await driver.transaction((tx) =>
    tx.query<{ ours: boolean }>(
      `select coalesce(obj_description('auth.users'::regclass, 'pg_class') like 'pilar-bootstrap:%', false) as ours`,
    ),
  )
  return row?.ours === true
}

/**
 * Local auth over a database whose `auth.users` is not ours (Supabase's, filled only by Supabase
 * Auth): local users could never be added to it, so every profile, assessment and conversation
 * of a new user would break its foreign key. Start-up stops and says what to set instead.
 */
export class ForeignAuthUsersError extends Error {
  constructor() {
    super(
      'auth.users on this database is not the one this server creates (on Supabase, Supabase Auth owns it), ' +
        'but auth is local (SUPABASE_URL is unset): local users cannot be added to it, so every new user would fail. ' +
        'Set SUPABASE_URL and SUPABASE_ANON_KEY (or SUPABASE_SERVICE_ROLE_KEY) to use that project’s Supabase Auth, ' +
        'or point DATABASE_URL at a database of your own.',
    )
    this.name = 'ForeignAuthUsersError'
  }
}
