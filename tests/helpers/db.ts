import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPglite } from '@/lib/db/pglite'

export interface SharedDatabase {
  db: Database
  /** What the first migration run on this fresh database applied. */
  firstRun: string[]
}

// A brand-new PGlite takes seconds to initialize, so every test file shares one in-memory
// instance for the whole run (bun test runs all files in one process). Tests keep to their own
// rows (fresh user ids) instead of resetting the database.
const KEY = Symbol.for('pilar.tests.sharedDatabase')
const registry = globalThis as unknown as Record<symbol, Promise<SharedDatabase> | undefined>

export function sharedDatabase(): Promise<SharedDatabase> {
  registry[KEY] ??= (async () => {
    const driver = await openPglite(':memory:')
    await bootstrap(driver)
    const db = withRoles(driver)
    const firstRun = await migrate(db, readMigrations(MIGRATIONS_DIR))
    return { db, firstRun }
  })()
  return registry[KEY]
}

/** Creates an auth user (as Supabase Auth would) and returns its id. */
export async function createAuthUser(db: Database, email = `${crypto.randomUUID()}@example.test`) {
  const id = crypto.randomUUID()
  await db.transaction((tx) => tx.query('insert into auth.users (id, email) values ($1, $2)', [id, email]))
  return { id, email }
}

/** Enough time for the shared PGlite to initialize on a busy 2-core machine. */
export const DB_SETUP_TIMEOUT_MS = 60_000
