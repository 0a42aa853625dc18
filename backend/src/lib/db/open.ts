import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { openPglite } from '@/lib/db/pglite'
import { openPostgres } from '@/lib/db/postgres'

/** Opens the configured database and makes sure Supabase's roles and auth schema exist. */
export interface DatabaseOptions {
  /** DATABASE_URL: a Postgres server; unset = the embedded PGlite under `dataDir`. */
  url: string | undefined
  prepare: boolean
  maxConnections: number
  dataDir: string
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const driver = options.url
    ? await openPostgres({
        url: options.url,
        prepare: options.prepare,
        maxConnections: options.maxConnections,
      })
    : await openPglite(options.dataDir)
  try {
    await bootstrap(driver)
  } catch (error) {
    await driver.close()
    throw error
  }
  return withRoles(driver)
}
