import type { Keyset } from '@/lib/http/pagination'

/**
 * The SQL condition that starts a keyset page after `after`, with its two values pushed onto
 * `params`: `(created_at, id) < ($3::timestamptz, $4::uuid)` for a newest-first list (`<`), or
 * `>` for an oldest-first one. An empty string when there is no cursor.
 */
export function keysetCondition(
  params: unknown[],
  after: Keyset | undefined,
  columns: string,
  op: '<' | '>',
  /** The id column's type (a ledger's ids are bigints). */
  idType: 'uuid' | 'bigint' = 'uuid',
): string {
  if (!after) return ''
  params.push(after.at, after.id)
  return ` and (${columns}) ${op} ($${params.length - 1}::timestamptz, $${params.length}::${idType})`
}
