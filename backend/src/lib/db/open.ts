import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { DatabaseUnreachableError, isDatabaseUnavailable, postgresTarget } from '@/lib/db/errors'
import { isNewDataDir, openPglite } from '@/lib/db/pglite'
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
    // The bootstrap is the first statement sent: a server that is not there fails here.
    if (options.url && isDatabaseUnavailable(error)) throw DatabaseUnreachableError.from(options.url, error)
    throw error
  }
  return withRoles(driver)
}

/** What opening the database is about to do, for the start-up log (never the URL's credentials). */
export function describeOpening(options: DatabaseOptions): string {
  if (options.url) {
    const { host, port } = postgresTarget(options.url)
    return `connecting to Postgres at ${host}:${port}`
  }
  if (options.dataDir === ':memory:') return 'creating an in-memory embedded database'
  return isNewDataDir(options.dataDir)
    ? `creating the embedded database in ${options.dataDir} (first start only: takes 5-15 s)`
    : `opening the embedded database in ${options.dataDir}`
}
