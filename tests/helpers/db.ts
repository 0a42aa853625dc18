import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { type BuildRole, claimBuild } from '@tests/helpers/run-build'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import type { SqlDriver } from '@/lib/db/database'
import { type Database, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPglite } from '@/lib/db/pglite'

export interface SharedDatabase {
  db: Database
  /** What the first migration run on this fresh database applied. */
  firstRun: string[]
  /** The PGlite underneath (for `keepSeededSnapshot`). */
  pglite: PGlite
}

// A brand-new PGlite takes seconds to initialize, so every test file shares one in-memory
// instance per process (`bun test` runs every file in one; `bun run test`, each worker its
// files), and the workers of one run share one build of it (run-build.ts): one builds, the
// others load its dumps. Tests keep to their own rows (fresh user ids) instead of resetting the
// database.
const KEY = Symbol.for('pilar.tests.sharedDatabase')
const registry = globalThis as unknown as Record<symbol, Promise<SharedDatabase> | undefined>

export function sharedDatabase(): Promise<SharedDatabase> {
  registry[KEY] ??= openShared()
  return registry[KEY]
}

async function openShared(): Promise<SharedDatabase> {
  const role = await claimBuild()
  roles[ROLE_KEY] = role
  if (role.kind === 'loader') {
    // Another worker of this run built it (run-build.ts): the same database, from its dumps.
    pristine[PRISTINE_KEY] = Promise.resolve(role.built.pristine)
    seeded[SEEDED_KEY] = Promise.resolve(role.built.seeded)
    const driver = await openPglite(':memory:', { loadDataDir: role.built.seeded })
    return { db: withRoles(driver), firstRun: role.built.firstRun, pglite: driver.pglite }
  }
  try {
    const driver = await openPglite(':memory:')
    // The brand-new cluster, before anything is created in it: the files every other fresh
    // in-memory database of this run starts from (PGlite's initdb costs seconds; a load, 0.3 s).
    pristine[PRISTINE_KEY] = driver.pglite.dumpDataDir('none')
    await pristine[PRISTINE_KEY]
    await bootstrap(driver)
    const db = withRoles(driver)
    const firstRun = await migrate(db, readMigrations(MIGRATIONS_DIR))
    return { db, firstRun, pglite: driver.pglite }
  } catch (error) {
    abandonSharedBuild()
    throw error
  }
}

const ROLE_KEY = Symbol.for('pilar.tests.buildRole')
const roles = globalThis as unknown as Record<symbol, BuildRole | undefined>

/** The preload failed: the other workers of the run stop waiting and build their own. */
export function abandonSharedBuild(): void {
  const role = roles[ROLE_KEY]
  if (role?.kind === 'builder') role.abandon()
}

const PRISTINE_KEY = Symbol.for('pilar.tests.pristineCluster')
const pristine = globalThis as unknown as Record<symbol, Promise<Blob> | undefined>

/**
 * A new, empty in-memory embedded database — a fresh cluster, exactly as `openPglite(':memory:')`
 * makes one, copied from the one the shared database started as instead of running initdb again.
 */
export async function freshDatabase(): Promise<SqlDriver & { pglite: PGlite }> {
  return openPglite(':memory:', { loadDataDir: await pristineCluster() })
}

/** The same as a bare PGlite with pgvector (no session settings), e.g. to serve over a socket. */
export async function freshPglite(): Promise<PGlite> {
  return PGlite.create('memory://', { extensions: { vector }, loadDataDir: await pristineCluster() })
}

async function pristineCluster(): Promise<Blob> {
  await sharedDatabase()
  const dump = pristine[PRISTINE_KEY]
  if (!dump) throw new Error('the shared database kept no copy of its new cluster')
  return dump
}

const SEEDED_KEY = Symbol.for('pilar.tests.seededSnapshot')
const seeded = globalThis as unknown as Record<symbol, Promise<Blob> | undefined>

/**
 * Keeps a copy of the shared database as the first container left it — migrated, the knowledge
 * base and the content pages seeded, the pages indexed and the planner statistics taken: the
 * database a server writes in its first seconds (not its secret or lock file, which a server
 * creates when it opens a directory) — before any test adds rows. The preload calls it;
 * data-dir.ts writes real servers' data directories from it.
 */
export async function keepSeededSnapshot(): Promise<void> {
  const { pglite, firstRun } = await sharedDatabase()
  seeded[SEEDED_KEY] ??= pglite.dumpDataDir('none')
  const snapshot = await seeded[SEEDED_KEY]
  const role = roles[ROLE_KEY]
  if (role?.kind !== 'builder') return
  const cluster = pristine[PRISTINE_KEY]
  if (!cluster) throw new Error('the shared database kept no copy of its new cluster')
  await role.publish({ pristine: await cluster, seeded: snapshot, firstRun })
}

/** That copy (see `keepSeededSnapshot`), once the preload has made it. */
export function seededSnapshot(): Promise<Blob> {
  const snapshot = seeded[SEEDED_KEY]
  if (!snapshot) throw new Error('no seeded snapshot: tests/helpers/preload.ts makes it (bunfig.toml)')
  return snapshot
}

/** Creates an auth user (as Supabase Auth would) and returns its id. */
export async function createAuthUser(db: Database, email = `${crypto.randomUUID()}@example.test`) {
  const id = crypto.randomUUID()
  await db.transaction((tx) => tx.query('insert into auth.users (id, email) values ($1, $2)', [id, email]))
  return { id, email }
}

/** Enough time for the shared PGlite to initialize on a busy 2-core machine. */
export const DB_SETUP_TIMEOUT_MS = 60_000
