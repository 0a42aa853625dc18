import type { AuthUser } from '@/lib/auth/types'
import type { LedgerStore, LevelRow } from '@/services/progress/ledger-store'

export interface Level {
  number: number
  title: string
  /** The points at which the next level starts; null at the top level. */
  next_at: number | null
}

export interface MyGamification {
  points: number
  level: Level
  streak: { current: number; longest: number; last_active_date: string | null }
  badges: { key: string; name: string; earned_at: string }[]
  recent: { reason: string; points: number; created_at: string }[]
}

export interface BadgeInfo {
  key: string
  name: string
  description: string
  /** Holders out of every user the server has seen, 0..1 (4 decimals). */
  rarity: number
}

const RECENT = 10
const DAY_MS = 24 * 60 * 60 * 1000
const iso = (value: Date | string) => new Date(value).toISOString()

/** The level a total reaches in a catalog ordered by threshold (the first level starts at 0). */
export function levelOf(levels: readonly LevelRow[], points: number): Level {
  let index = 0
  for (let i = 0; i < levels.length; i++) if ((levels[i]?.threshold ?? 0) <= points) index = i
  const level = levels[index]
  return {
    number: level?.number ?? 1,
    title: level?.title ?? '',
    next_at: levels[index + 1]?.threshold ?? null,
  }
}

/** The levels catalog, read once: it changes only with a migration. */
export class LevelCatalog {
  #levels: Promise<LevelRow[]> | undefined

  constructor(private readonly store: LedgerStore) {}

  all(): Promise<LevelRow[]> {
    this.#levels ??= this.store.levels().catch((error: unknown) => {
      this.#levels = undefined
      throw error
    })
    return this.#levels
  }
}

/** What GET /gamification/me and /badges answer: read-only, from the ledger's tables. */
export class GamificationService {
  constructor(
    private readonly store: LedgerStore,
    private readonly levels: LevelCatalog,
    private readonly clock: () => Date,
  ) {}

  async me(user: AuthUser): Promise<MyGamification> {
    const [{ summary, badges, recent }, levels] = await Promise.all([
      this.store.mine(user.claims, RECENT),
      this.levels.all(),
    ])
    const points = summary?.points ?? 0
    const last = summary?.last_active_date ?? null
    return {
      points,
      level: levelOf(levels, points),
      streak: {
        // The stored streak is as of the last active day; a day missed since means it is broken.
        current: last && isTodayOrYesterday(last, this.clock()) ? (summary?.streak_current ?? 0) : 0,
        longest: summary?.streak_longest ?? 0,
        last_active_date: last,
      },
      badges: badges.map((b) => ({ key: b.key, name: b.name, earned_at: iso(b.earned_at) })),
      recent: recent.map((r) => ({ reason: r.reason, points: r.points, created_at: iso(r.created_at) })),
    }
  }

  async badges(): Promise<BadgeInfo[]> {
    const rows = await this.store.badgeCatalog()
    return rows.map((row) => ({
      key: row.key,
      name: row.name,
      description: row.description,
      rarity: row.users > 0 ? Math.round((row.holders / row.users) * 10_000) / 10_000 : 0,
    }))
  }
}

function isTodayOrYesterday(date: string, now: Date): boolean {
  const day = Date.parse(`${date}T00:00:00Z`) / DAY_MS
  const today = Math.floor(now.getTime() / DAY_MS)
  return day >= today - 1
}
