import type { Database, Tx } from '@/lib/db/database'

export type QueryObserver = (statement: string, ok: boolean, seconds: number) => void

const KINDS = new Set(['select', 'insert', 'update', 'delete'])

/** A low-cardinality label for a statement: its leading keyword (CTEs and scripts are `other`). */
export function statementKind(sql: string): string {
  const word = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? ''
  return KINDS.has(word) ? word : 'other'
}

function timedTx(tx: Tx, observe: QueryObserver): Tx {
  return {
    async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      const started = performance.now()
      let ok = false
      try {
        const rows = await tx.query<Row>(sql, params)
        ok = true
        return rows
      } finally {
        observe(statementKind(sql), ok, (performance.now() - started) / 1000)
      }
    },
    exec: (sql) => tx.exec(sql),
  }
}

/**
 * The same database with every statement's latency reported to `observe` (the
 * `db_query_duration_seconds` histogram). Timing is per statement, inside the transaction, so
 * it shows the database's own latency rather than time spent waiting for a pooled connection.
 */
export function instrumentDatabase(db: Database, observe: QueryObserver): Database {
  return {
    kind: db.kind,
    close: () => db.close(),
    ping: () => db.ping(),
    transaction: (fn) => db.transaction((tx) => fn(timedTx(tx, observe))),
    asUser: (claims, fn) => db.asUser(claims, (tx) => fn(timedTx(tx, observe))),
    asService: (fn) => db.asService((tx) => fn(timedTx(tx, observe))),
  }
}
