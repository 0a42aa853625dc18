import { z } from '@hono/zod-openapi'
import { invalid } from '@/lib/errors/domain'

/** `?limit=` (1..100, default 20) and `?cursor=` (opaque), as every list in API.md. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .openapi({ description: 'Opaque; from a previous next_cursor' }),
})

/** A keyset position: the last row's timestamp (UTC, microseconds: `…T12:00:00.123456Z`) and id. */
export interface Keyset {
  at: string
  id: string
}

export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(JSON.stringify([keyset.at, keyset.id])).toString('base64url')
}

const CursorSchema = z.tuple([z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/), z.uuid()])

/** Decodes a cursor; anything we did not issue is a 400, never a database error. */
export function decodeCursor(cursor: string): Keyset {
  try {
    const [at, id] = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
    // The shape is not enough: 2024-02-30T25:61 matches it. A real instant survives a round trip.
    const millis = `${at.slice(0, 23)}Z`
    if (new Date(millis).toISOString() !== millis) throw new Error('not a real time')
    // JavaScript has a year 0 (1 BC); Postgres has none and answers 22008 for it.
    if (at.startsWith('0000')) throw new Error('no year 0')
    // Base64 decoding skips what it cannot read: only the exact text we issued is ours.
    if (encodeCursor({ at, id }) !== cursor) throw new Error('not as issued')
    return { at, id }
  } catch {
    throw invalid('The cursor is not valid', [
      { field: 'query.cursor', message: 'Not a cursor from this list' },
    ])
  }
}

/**
 * One page of a keyset list: the store read `limit + 1` rows, so an extra row means another
 * page exists, and its cursor is the last returned row's key.
 */
export function pageOf<Row extends { created_key: string }, Out>(
  rows: readonly Row[],
  limit: number,
  idOf: (row: Row) => string,
  present: (row: Row) => Out,
): { data: Out[]; next_cursor: string | null } {
  const data = rows.slice(0, limit)
  const last = data.at(-1)
  return {
    data: data.map(present),
    next_cursor: rows.length > limit && last ? encodeCursor({ at: last.created_key, id: idOf(last) }) : null,
  }
}
