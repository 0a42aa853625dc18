import { loadConfig } from '@/config'
import { MIGRATIONS_DIR } from '@/container'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'

// `bun run migrate`: bootstrap (when not Supabase) and apply pending migrations, then exit.
const parsed = loadConfig(process.env)
if (!parsed.ok) {
  console.error(`Invalid configuration:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`)
  process.exit(1)
}
const db = await openDatabase(parsed.config.database)
try {
  const migrations = readMigrations(MIGRATIONS_DIR)
  const applied = await migrate(db, migrations)
  console.log(
    applied.length === 0
      ? `Up to date: ${migrations.length} migration(s) already applied.`
      : `Applied ${applied.length} of ${migrations.length}:\n${applied.map((f) => `  ${f}`).join('\n')}`,
  )
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  await db.close()
}
