import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { lockDataDir } from '@/lib/db/data-dir-lock'
import type { SqlDriver, Tx } from '@/lib/db/database'

/**
 * True when `dataDir` holds no embedded database yet, so opening it will create one (PGlite runs
 * initdb: the slow part of a first start, several seconds). False for `:memory:`.
 */
export function isNewDataDir(dataDir: string): boolean {
  return dataDir !== ':memory:' && !existsSync(join(dataDir, 'pglite', 'PG_VERSION'))
}

/**
 * Embedded Postgres (PGlite: real Postgres compiled to WASM) with pgvector loaded.
 * `:memory:` keeps everything in memory (tests); any other value is a data directory: the
 * database lives in its `pglite/` folder, beside the lock file and the local auth secret.
 * PGlite is one connection and one process: it must be closed on shutdown, or writes it has
 * acknowledged can be lost.
 */
export async function openPglite(
  dataDir: string,
  /** A `dumpDataDir()` tarball to start from instead of a new cluster (tests: initdb takes seconds). */
  options: { loadDataDir?: Blob } = {},
): Promise<SqlDriver & { pglite: PGlite }> {
  const location = dataDir === ':memory:' ? 'memory://' : join(dataDir, 'pglite')
  let unlock = () => {}
  if (location !== 'memory://') {
    mkdirSync(location, { recursive: true })
    unlock = lockDataDir(dataDir)
  }
  const pglite = await PGlite.create(location, {
    extensions: { vector },
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  }).catch((error: unknown) => {
    unlock()
    throw error
  })
  // Supabase puts `extensions` on the search path so pgvector's operators resolve unqualified.
  await pglite.exec(`set search_path to "$user", public, extensions`)

  const txFor = (runner: Pick<PGlite, 'query' | 'exec'>): Tx => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await runner.query<Row>(sql, params as unknown[])
      return result.rows
    },
    async exec(sql: string) {
      await runner.exec(sql)
    },
  })

  let closed = false
  return {
    kind: 'embedded',
    pglite,
    transaction: (fn) => pglite.transaction((tx) => fn(txFor(tx))),
    async close() {
      if (closed) return
      closed = true
      try {
        await pglite.close()
      } finally {
        unlock()
      }
    },
  }
}
