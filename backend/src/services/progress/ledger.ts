import type { Tx } from '@/lib/db/database'
import { hashUserId, type Logger } from '@/lib/log'
import { LruTtl } from '@/lib/lru-ttl'
import type { ActivityRecorder } from '@/services/progress/activity-port'
import type { LedgerStore } from '@/services/progress/ledger-store'

const DAY_MS = 24 * 60 * 60 * 1000

export interface PointsLedgerOptions {
  /** (user, UTC day) pairs remembered as noted, so a user's writes cost one award call a day. */
  notedMaxEntries?: number
}

/**
 * The server's side of the points ledger: every award is a call of the migration's functions in
 * the transaction of its cause, timed by the server's clock. It is the events' and the
 * assessments' recorder, and notes the daily activity of authenticated writes.
 */
export class PointsLedger implements ActivityRecorder {
  readonly #noted: LruTtl<true>

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: () => Date,
    private readonly logger: Logger,
    options: PointsLedgerOptions = {},
  ) {
    this.#noted = new LruTtl(options.notedMaxEntries ?? 100_000)
  }

  /** The day's activity (and any streak bonus), inside the writer's transaction. */
  noteActivity(tx: Tx, userId: string, at: Date): Promise<void> {
    return this.store.noteActivity(tx, userId, at)
  }

  /**
   * The completion awards of an assessment just completed in `tx` (the completing transaction,
   * which holds the assessment's row lock): they commit or roll back with the completion.
   */
  assessmentCompleted(tx: Tx, userId: string, assessmentId: string): Promise<void> {
    return this.store.assessmentCompleted(tx, userId, assessmentId, this.clock())
  }

  /**
   * Daily activity for a successful authenticated write that has no award of its own: once per
   * user and UTC day from this process (the SQL is idempotent anyway), in its own transaction
   * after the write. Never throws: a request that succeeded must not fail for its points.
   */
  async noteWrite(userId: string): Promise<void> {
    const now = this.clock()
    const day = Math.floor(now.getTime() / DAY_MS)
    const key = `${userId}:${day}`
    if (this.#noted.get(key, now.getTime())) return
    // Marked before the write, so concurrent writes of one user make one call; unmarked if it fails.
    this.#noted.set(key, true, (day + 1) * DAY_MS)
    try {
      await this.store.asService((tx) => this.store.noteActivity(tx, userId, now))
    } catch (error) {
      this.#noted.delete(key)
      this.logger.warn({ err: error, user: hashUserId(userId) }, 'daily activity not noted')
    }
  }
}
