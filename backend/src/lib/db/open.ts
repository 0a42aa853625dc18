import type { Config } from '@/config'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { openPglite } from '@/lib/db/pglite'
import { openPostgres } from '@/lib/db/postgres'

/** Opens the configured database and makes sure Supabase's roles and auth schema exist. */
export async function openDatabase(config: Config): Promise<Database> {
  const driver = config.DATABASE_URL
    ? await openPostgres({
        url: config.DATABASE_URL,
        prepare: config.DATABASE_PREPARE,
        maxConnections: config.DATABASE_POOL_MAX,
      })
    : await openPglite(config.DATA_DIR)
  try {
    await bootstrap(driver)
  } catch (error) {
    await driver.close()
    throw error
  }
  return withRoles(driver)
}
