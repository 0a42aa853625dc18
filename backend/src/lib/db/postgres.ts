import { SQL } from 'bun'
import type { SqlDriver, Tx } from '@/lib/db/database'

export interface PostgresOptions {
  url: string
  /** Transaction-mode poolers (Supabase port 6543) do not support prepared statements. */
  prepare: boolean
  maxConnections: number
}

/** A Postgres server (Supabase, `supabase start`, any Postgres with pgvector) over Bun.sql. */
export async function openPostgres(options: PostgresOptions): Promise<SqlDriver> {
  const sql = new SQL({
    url: options.url,
    prepare: options.prepare,
    max: options.maxConnections,
    idleTimeout: 30,
    connectionTimeout: 10,
  })

  const txFor = (runner: SQL): Tx => ({
    async query<Row>(text: string, params: readonly unknown[] = []) {
      return (await runner.unsafe(text, params as unknown[])) as Row[]
    },
    async exec(text: string) {
      // No parameters: Bun sends this as a simple query, which may hold several statements.
      await runner.unsafe(text).simple()
    },
  })

  return {
    kind: 'postgres',
    transaction: (fn) => sql.begin((tx) => fn(txFor(tx))) as Promise<Awaited<ReturnType<typeof fn>>>,
    close: () => sql.close({ timeout: 5 }),
  }
}
