import type { Database, Tx } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'

/**
 * The rows a statement returned, or the SQLSTATE it failed with. Each try runs in a savepoint,
 * so a refusal does not abort the transaction the next try runs in.
 */
export async function attempt(
  tx: Tx,
  sql: string,
  params: readonly unknown[] = [],
): Promise<unknown[] | string> {
  await tx.query('savepoint attempt')
  try {
    const rows = await tx.query(sql, params)
    await tx.query('release savepoint attempt')
    return rows
  } catch (error) {
    await tx.query('rollback to savepoint attempt')
    return sqlState(error) ?? String(error)
  }
}

const rollback = Symbol('rollback')

/**
 * Runs `fn` in the transaction `open` starts (`db.transaction`, `fn => db.asUser(claims, fn)`, …),
 * then rolls that transaction back, catalog changes included; returns what `fn` returned.
 */
export async function rolledBack<T>(
  open: (fn: (tx: Tx) => Promise<never>) => Promise<unknown>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  let result: T | undefined
  try {
    await open(async (tx) => {
      result = await fn(tx)
      throw rollback
    })
  } catch (error) {
    if (error !== rollback) throw error
  }
  return result as T
}

/**
 * The same `Database`, except that `asUser` runs as the table owner (row-level security does not
 * apply) with the user's claims set, so `auth.uid()` still names them: only the services' and
 * stores' own checks are left.
 */
export function withoutRls(inner: Database): Database {
  return {
    ...inner,
    asUser: (claims, fn) =>
      inner.transaction(async (tx) => {
        await tx.query(`select set_config('request.jwt.claims', $1, true)`, [
          JSON.stringify({ ...claims, role: 'authenticated' }),
        ])
        return fn(tx)
      }),
  }
}
