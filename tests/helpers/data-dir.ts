import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { seededSnapshot } from '@tests/helpers/db'
import { startServer } from '@tests/helpers/server-process'

// A real process on a brand-new data directory spends seconds creating PGlite (its initdb),
// migrating and seeding the knowledge base; on one that holds a migrated, seeded database it is
// listening in about a second. So one such directory is prepared per worker and each test that
// needs a process gets its own copy. It is written from the shared database as the preload left
// it (db.ts `keepSeededSnapshot`: the same migrations and the same seeding code a first start
// runs) rather than by a first start of its own; the one real first start of a run is
// `firstStart()`, which first-start.test.ts reads.
const KEY = Symbol.for('pilar.tests.preparedDataDir')
const registry = globalThis as unknown as Record<symbol, Promise<string> | undefined>
const FIRST_KEY = Symbol.for('pilar.tests.firstStart')
const firstRegistry = globalThis as unknown as Record<symbol, Promise<FirstStart> | undefined>

async function prepare(): Promise<string> {
  const template = mkdtempSync(join(tmpdir(), 'pilar-data-template-'))
  process.once('exit', () => rmSync(template, { recursive: true, force: true }))
  // Where openPglite keeps a data directory's database (backend/src/lib/db/pglite.ts).
  const pglite = await PGlite.create(join(template, 'pglite'), {
    extensions: { vector },
    loadDataDir: await seededSnapshot(),
  })
  await pglite.close()
  return template
}

/**
 * A new temporary data directory holding a migrated, seeded embedded database, for
 * `startServer({ DATA_DIR })`. The caller removes it.
 */
export async function preparedDataDir(): Promise<string> {
  registry[KEY] ??= prepare()
  const template = await registry[KEY]
  const dir = mkdtempSync(join(tmpdir(), 'pilar-data-'))
  cpSync(template, dir, { recursive: true })
  return dir
}

export interface FirstStart {
  /** The log lines of a first start on a brand-new data directory, as a newcomer's `bun run start`. */
  logs: Record<string, unknown>[]
  /** That data directory, after the server stopped (removed when the run ends). */
  dir: string
}

/** The real server's first start on a brand-new data directory, once per worker; stopped at once. */
export function firstStart(): Promise<FirstStart> {
  firstRegistry[FIRST_KEY] ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilar-first-start-data-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const server = await startServer({ DATA_DIR: dir, LOG_LEVEL: 'info' })
    // One request first: it shows the server answers (its signal handlers are installed before 'listening').
    await fetch(`${server.baseUrl}/health`)
    server.child.kill('SIGTERM')
    const code = await server.exited
    if (code !== 0) throw new Error(`the first start: the server exited with ${code}`)
    return { logs: server.logs, dir }
  })()
  return firstRegistry[FIRST_KEY]
}
