import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '@tests/helpers/server-process'

// A real process on a brand-new data directory spends ~8 s creating PGlite, migrating and seeding
// the knowledge base; on one that a server has already run on it is listening in about a second.
// So one such directory is prepared per test run (by the real server, exactly as in production)
// and each test that needs a process gets its own copy.
const KEY = Symbol.for('pilar.tests.preparedDataDir')
const registry = globalThis as unknown as Record<symbol, Promise<string> | undefined>
const LOGS_KEY = Symbol.for('pilar.tests.preparedDataDir.firstStartLogs')
const logsRegistry = globalThis as unknown as Record<symbol, Record<string, unknown>[] | undefined>

async function prepare(): Promise<string> {
  const template = mkdtempSync(join(tmpdir(), 'pilar-data-template-'))
  process.once('exit', () => rmSync(template, { recursive: true, force: true }))
  const server = await startServer({ DATA_DIR: template, LOG_LEVEL: 'info' })
  logsRegistry[LOGS_KEY] = server.logs
  // One request first: it shows the server answers (its signal handlers are installed before 'listening').
  await fetch(`${server.baseUrl}/health`)
  server.child.kill('SIGTERM')
  const code = await server.exited
  if (code !== 0) throw new Error(`preparing the data directory: the server exited with ${code}`)
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

/**
 * The log lines of the template's own start: a first start on a brand-new data directory, as a
 * newcomer's `bun run start` is (tests/integration/first-start.test.ts reads them).
 */
export async function firstStartLogs(): Promise<Record<string, unknown>[]> {
  registry[KEY] ??= prepare()
  await registry[KEY]
  return logsRegistry[LOGS_KEY] ?? []
}
