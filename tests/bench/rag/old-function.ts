import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Database } from '@/lib/db/database'

/** Where the benchmark keeps match_knowledge as it was before 20261201000900. */
export const OLD_FUNCTION = 'bench_match_knowledge_v1'

/**
 * Creates public.bench_match_knowledge_v1 from the text of the migration that first defined
 * match_knowledge (its `do $match_knowledge$` block, renamed): the side-by-side measures the old
 * body in the same database, run and load as the new one. Bench databases only.
 */
export async function createOldMatchKnowledge(db: Database, migrationsDir: string): Promise<void> {
  const sql = readFileSync(join(migrationsDir, '20261122000400_knowledge.sql'), 'utf8')
  const start = sql.indexOf('do $match_knowledge$')
  const end = sql.indexOf('$match_knowledge$;', start + 1)
  if (start < 0 || end < 0) throw new Error('the old match_knowledge block was not found')
  const block = sql.slice(start, end + '$match_knowledge$;'.length)
  const renamed = block.replaceAll('public.match_knowledge(', `public.${OLD_FUNCTION}(`)
  if (renamed === block) throw new Error('the old match_knowledge block was not renamed')
  await db.transaction((tx) => tx.exec(renamed))
}
