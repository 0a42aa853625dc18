/**
 * The one small interface the rest of the code uses to reach Postgres, whichever adapter is
 * behind it (embedded PGlite or a server over `DATABASE_URL`).
 */

/** A query runner bound to one open transaction. */
export interface Tx {
  /** Runs one parameterized statement ($1, $2, …) and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>
  /** Runs a script of one or more statements with no parameters (migrations, bootstrap). */
  exec(sql: string): Promise<void>
}

/** The verified identity a per-user transaction runs as: Supabase's JWT claim shape. */
export interface JwtClaims {
  sub: string
  role?: string
  email?: string
  [claim: string]: unknown
}

/** What an adapter must provide; `Database` adds the role-scoped helpers on top. */
export interface SqlDriver {
  readonly kind: 'embedded' | 'postgres'
  /** A transaction as the connection's own (owner) role: bootstrap and migrations only. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface Database extends SqlDriver {
  /**
   * Runs `fn` in a transaction as the `authenticated` role with `request.jwt.claims` set, exactly
   * as PostgREST does on Supabase, so row-level security and `auth.uid()` apply. Services still
   * filter by owner themselves: RLS is the second lock, not the only one.
   */
  asUser<T>(claims: JwtClaims, fn: (tx: Tx) => Promise<T>): Promise<T>
  /** Runs `fn` as `service_role` (bypasses RLS) for trusted, server-side work. */
  asService<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /** A trivial round trip, for readiness checks. */
  ping(): Promise<void>
}

async function scoped<T>(
  driver: SqlDriver,
  role: 'authenticated' | 'service_role',
  claims: Record<string, unknown>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return driver.transaction(async (tx) => {
    // `set local` and `set_config(…, true)` end with the transaction, so a pooled connection
    // never carries one user's identity into the next request.
    await tx.query(`select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)`, [
      JSON.stringify(claims),
      role,
    ])
    return fn(tx)
  })
}

/** Wraps an adapter with the role-scoped transaction helpers. */
export function withRoles(driver: SqlDriver): Database {
  return {
    kind: driver.kind,
    transaction: (fn) => driver.transaction(fn),
    close: () => driver.close(),
    asUser: (claims, fn) => {
      if (!claims.sub) throw new Error('asUser needs claims with a subject')
      return scoped(driver, 'authenticated', { ...claims, role: 'authenticated' }, fn)
    },
    asService: (fn) => scoped(driver, 'service_role', { role: 'service_role' }, fn),
    ping: () => driver.transaction(async (tx) => void (await tx.query('select 1'))),
  }
}
