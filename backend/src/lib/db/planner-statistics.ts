import type { Database } from '@/lib/db/database'

/**
 * ANALYZE for a database without autovacuum (PGlite), the way autovacuum would do it: only the
 * tables written since their statistics were taken, or never analyzed. A bare `analyze` re-reads
 * every table and every system catalog each time — ~0.5 s of CPU on an unchanged database, at
 * every start and every hour. Returns how many tables were analyzed.
 *
 * The write counts come from Postgres's cumulative statistics, which survive a clean shutdown and
 * are reset by crash recovery (then every table reads as never analyzed, so all are analyzed
 * again). They reach the views up to a second late, so this session's are flushed first: its
 * own statement asks for it, and the flush happens before the next one (the views are read as
 * of the transaction's first look, hence the two steps).
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
