import type { AuthUser } from '@/lib/auth/types'
import { notFound } from '@/lib/errors/domain'
import { type LevelCatalog, levelOf } from '@/services/progress/gamification'
import type { BoardRow, LedgerStore } from '@/services/progress/ledger-store'

export interface BoardEntry {
  rank: number
  user_id: string
  /**
   * The display name the user chose, or null — never an e-mail address, nor the e-mail's local
   * part a profile starts with (`user_profiles.display_name_chosen`).
   */
  display_name: string | null
  points: number
  level: number
}

export interface Leaderboard {
  data: BoardEntry[]
  me: { rank: number; points: number } | null
}

export interface LeaderboardOptions {
  /** Ranks up to this are counted exactly on every request (an index scan that stops there). */
  exactRanks?: number
  /** How old the snapshot behind ranks beyond `exactRanks` may be before it is refreshed. */
  snapshotTtlMs?: number
}

/** Opted-in totals, highest first, with how many users are strictly ahead of each. */
interface RankSnapshot {
  points: number[]
  ahead: number[]
  /** Every opted-in user. */
  total: number
  takenAt: number
}

/**
 * Leaderboards: globally among users who opted in (`leaderboard_opt_in`), and within a team
 * among all its members (a non-member, like a missing team, is 404). Ranks are shared by equal
 * totals (1, 2, 2, 4); within a rank, by user id.
 *
 * The caller's own global rank is a count of the opted-in users ahead of them: exact up to
 * `exactRanks`, and beyond it read off a snapshot of how many users hold each total (refreshed
 * in the background once older than `snapshotTtlMs`), against the caller's current total —
 * counting 100,000 rows on every request would cost more than the whole rest of it.
 */
export class LeaderboardService {
  readonly #exactRanks: number
  readonly #ttlMs: number
  #snapshot: RankSnapshot | undefined
  #refreshing: Promise<RankSnapshot> | undefined

  constructor(
    private readonly store: LedgerStore,
    private readonly levels: LevelCatalog,
    options: LeaderboardOptions = {},
  ) {
    this.#exactRanks = options.exactRanks ?? 1_000
    this.#ttlMs = options.snapshotTtlMs ?? 10_000
  }

  async global(user: AuthUser, limit: number): Promise<Leaderboard> {
    const { rows, me } = await this.store.globalBoard(user.id, limit, this.#exactRanks)
    let mine: Leaderboard['me'] = null
    if (me) {
      const rank =
        me.ahead < this.#exactRanks
          ? me.ahead + 1
          : Math.max(this.#exactRanks + 1, rankIn(await this.#rankSnapshot(), me.points))
      mine = { rank, points: me.points }
    }
    return { data: await this.#present(rows), me: mine }
  }

  async team(user: AuthUser, teamId: string, limit: number): Promise<Leaderboard> {
    const rows = await this.store.teamBoard(user.claims, teamId)
    if (!rows) throw notFound('Team')
    const mine = rows.find((row) => row.user_id === user.id)
    return {
      data: await this.#present(rows.slice(0, limit)),
      me: mine ? { rank: mine.rank, points: mine.points } : null,
    }
  }

  /**
   * The snapshot, fresh enough; a stale one is answered while one refresh runs behind it. A
   * refresh nobody awaits must not reject unhandled (that would end the process): its failure is
   * dropped and the next call tries again.
   */
  async #rankSnapshot(): Promise<RankSnapshot> {
    const current = this.#snapshot
    if (current && Date.now() - current.takenAt < this.#ttlMs) return current
    this.#refreshing ??= this.store
      .boardHistogram()
      .then((histogram) => {
        const snapshot: RankSnapshot = { points: [], ahead: [], total: 0, takenAt: Date.now() }
        for (const { points, users } of histogram) {
          snapshot.points.push(points)
          snapshot.ahead.push(snapshot.total)
          snapshot.total += users
        }
        this.#snapshot = snapshot
        return snapshot
      })
      .finally(() => {
        this.#refreshing = undefined
      })
    if (!current) return this.#refreshing
    this.#refreshing.catch(() => {})
    return current
  }

  async #present(rows: readonly BoardRow[]): Promise<BoardEntry[]> {
    const levels = await this.levels.all()
    return rows.map((row) => ({
      rank: row.rank,
      user_id: row.user_id,
      display_name: row.display_name,
      points: row.points,
      level: levelOf(levels, row.points).number,
    }))
  }
}

/** 1 + the users ahead of `points`: the first total in the snapshot not above it (binary search). */
export function rankIn(snapshot: Pick<RankSnapshot, 'points' | 'ahead' | 'total'>, points: number): number {
  let low = 0
  let high = snapshot.points.length
  while (low < high) {
    const middle = (low + high) >> 1
    if ((snapshot.points[middle] ?? 0) > points) low = middle + 1
    else high = middle
  }
  return (low < snapshot.points.length ? (snapshot.ahead[low] ?? 0) : snapshot.total) + 1
}
