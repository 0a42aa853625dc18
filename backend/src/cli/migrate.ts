import { loadConfig } from '@/config'
import { MIGRATIONS_DIR } from '@/container'
import { DataDirLockedError } from '@/lib/db/data-dir-lock'
import { DatabaseUnreachableError } from '@/lib/db/errors'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'

// `bun run migrate`: bootstrap (when not Supabase) and apply pending migrations, then exit.
const parsed = loadConfig(process.env)
if (!parsed.ok) {
  console.error(`Invalid configuration:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`)
  process.exit(1)
}
const db = await openDatabase(parsed.config.database).catch((error: unknown) => {
  // Both are the operator's to fix, and the message says how: no stack trace.
  if (error instanceof DataDirLockedError) {
    console.error(
      `${error.message}\nA running server applies pending migrations itself when it starts: ` +
        'stop it and run `bun run migrate` again, or just restart the server.',
    )
  } else if (error instanceof DatabaseUnreachableError) {
    console.error(error.message)
  } else {
    throw error
  }
  process.exit(1)
})
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
