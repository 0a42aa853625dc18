import type { Tx } from '@/lib/db/database'

/**
 * What the points ledger offers the writes that count as activity (an event batch, completing an
 * assessment, …): called inside the writer's own transaction, so the daily-activity award and
 * any streak bonus commit or roll back with their cause. `at` is the server's clock (injected
 * in tests), never a time the client sent.
 */
export interface ActivityRecorder {
  noteActivity(tx: Tx, userId: string, at: Date): Promise<void>
}

/** For a container without a ledger (and for tests of the writer alone). */
export const NO_ACTIVITY: ActivityRecorder = { noteActivity: async () => {} }
