import type { Database } from '@/lib/db/database'

/**
 * ANALYZE for a database without autovacuum (PGlite): the user tables written since their
 * statistics were taken (any write, where autovacuum waits for a threshold), or never analyzed.
 * A bare `analyze` re-reads every table and every system catalog each time (0.16–0.6 s here, at
 * every start and every hour); the catalogs keep the statistics initdb took. Returns how many
 * tables were analyzed.
 *
 * What was written and analyzed when comes from Postgres's cumulative statistics, which PGlite
 * does not keep across a restart (measured: every table reads as never analyzed after a clean
 * close), so the start-up run analyzes the user tables once (≈ 125–170 ms) and the hourly runs
 * only what changed since (≈ 3 ms when nothing did). A session hands its counts over only when
 * it is idle outside a transaction, so the flush is asked for in a transaction of its own,
 * committed before the counts are read.
 */
export async function analyzeChanged(db: Database): Promise<number> {
  await db.transaction((tx) => tx.query('select pg_stat_force_next_flush()'))
  return db.transaction(async (tx) => {
    const tables = await tx.query<{ name: string }>(
      `select format('%I.%I', schemaname, relname) as name
         from pg_stat_user_tables
        where n_mod_since_analyze > 0 or (last_analyze is null and last_autoanalyze is null)
        order by 1`,
    )
    // Quoted by format('%I'), and read from the catalog, not from input.
    if (tables.length > 0) await tx.exec(`analyze ${tables.map((t) => t.name).join(', ')}`)
    return tables.length
  })
}
