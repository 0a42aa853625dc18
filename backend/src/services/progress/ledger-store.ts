import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'

export interface LevelRow {
  number: number
  threshold: number
  title: string
}

export interface SummaryRow {
  points: number
  streak_current: number
  streak_longest: number
  /** `YYYY-MM-DD` (UTC), or null before any activity. */
  last_active_date: string | null
}

export interface EarnedBadgeRow {
  key: string
  name: string
  earned_at: Date
}

export interface LedgerEntryRow {
  reason: string
  points: number
  created_at: Date
}

export interface BadgeCatalogRow {
  key: string
  name: string
  description: string
  holders: number
  users: number
}

export interface BoardRow {
  user_id: string
  display_name: string | null
  points: number
  rank: number
}

const at = (date: Date) => date.toISOString()

/**
 * SQL of the points ledger. Awards go through the migration's internal functions only, in the
 * transaction the caller hands in (the cause's own); reads of one's own rows run as the user
 * (RLS applies) and name the user too; the global board reads as the service, opted-in rows only.
 */
export class LedgerStore {
  constructor(private readonly db: Database) {}

  /** A service-role transaction, for awards that have no transaction of their own. */
  asService<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.asService(fn)
  }

  async noteActivity(tx: Tx, userId: string, when: Date): Promise<void> {
    await tx.query('select public.progress_note_activity($1::uuid, $2::timestamptz)', [userId, at(when)])
  }

  async assessmentCompleted(tx: Tx, userId: string, assessmentId: string, when: Date): Promise<void> {
    await tx.query('select public.progress_assessment_completed($1::uuid, $2::uuid, $3::timestamptz)', [
      userId,
      assessmentId,
      at(when),
    ])
  }

  async levels(): Promise<LevelRow[]> {
    return this.db.asService((tx) =>
      tx.query<LevelRow>('select number, threshold, title from public.levels order by threshold'),
    )
  }

  /** The caller's summary, badges and newest ledger rows, in one transaction as the caller. */
  async mine(
    claims: JwtClaims,
    recent: number,
  ): Promise<{ summary: SummaryRow | undefined; badges: EarnedBadgeRow[]; recent: LedgerEntryRow[] }> {
    return this.db.asUser(claims, async (tx) => {
      const [summary] = await tx.query<SummaryRow>(
        `select points, streak_current, streak_longest, last_active_date::text as last_active_date
           from public.points_summary where user_id = $1`,
        [claims.sub],
      )
      const badges = await tx.query<EarnedBadgeRow>(
        `select b.key, b.name, u.earned_at from public.user_badges u join public.badges b on b.key = u.badge_key
          where u.user_id = $1 order by u.earned_at, b.position`,
        [claims.sub],
      )
      const rows = await tx.query<LedgerEntryRow>(
        `select reason, points, created_at from public.points_ledger
          where user_id = $1 order by created_at desc, id desc limit $2`,
        [claims.sub, recent],
      )
      return { summary, badges, recent: rows }
    })
  }

  /**
   * The catalog with how many hold each badge, out of every user the server has seen (a profile
   * row: made on a user's first authenticated request).
   */
  async badgeCatalog(): Promise<BadgeCatalogRow[]> {
    return this.db.asService((tx) =>
      tx.query<BadgeCatalogRow>(
        `with held as (select badge_key, count(*)::int as n from public.user_badges group by badge_key)
         select b.key, b.name, b.description, coalesce(h.n, 0) as holders,
                (select count(*)::int from public.user_profiles) as users
           from public.badges b left join held h on h.badge_key = b.key
          order by b.position`,
      ),
    )
  }

  /**
   * The global board: opted-in users only, top `limit` by points (ties share a rank, listed by
   * user id), read along the partial index; names through `_board_name` (a name the user never
   * chose — the e-mail's local part AuthService starts with — is null); and the caller's own total with how many opted-in
   * users are ahead of it, counted exactly up to `aheadCap` (an index range scan that stops
   * there) — `undefined` when the caller is not on the board.
   */
  async globalBoard(
    userId: string,
    limit: number,
    aheadCap: number,
  ): Promise<{ rows: BoardRow[]; me: { points: number; ahead: number } | undefined }> {
    return this.db.asService(async (tx) => {
      const rows = await tx.query<BoardRow>(
        `with top as (
           select s.user_id, s.points, rank() over (order by s.points desc)::int as rank
             from public.points_summary s
            where s.leaderboard_opt_in
            order by s.points desc, s.user_id
            limit $1
         )
         select t.user_id, public._board_name(p.display_name, p.display_name_chosen) as display_name, t.points, t.rank
           from top t left join public.user_profiles p on p.id = t.user_id
          order by t.points desc, t.user_id`,
        [limit],
      )
      const [me] = await tx.query<{ points: number; ahead: number }>(
        `select s.points,
                (select count(*)::int from (
                   select 1 from public.points_summary o
                    where o.leaderboard_opt_in and o.points > s.points
                    limit $2
                 ) a) as ahead
           from public.points_summary s
          where s.user_id = $1 and s.leaderboard_opt_in`,
        [userId, aheadCap],
      )
      return { rows, me }
    })
  }

  /** How many opted-in users hold each total, highest first: the ranks beyond the exact count. */
  async boardHistogram(): Promise<{ points: number; users: number }[]> {
    return this.db.asService((tx) =>
      tx.query<{ points: number; users: number }>(
        `select points, count(*)::int as users from public.points_summary
          where leaderboard_opt_in group by points order by points desc`,
      ),
    )
  }

  /**
   * Every member of the team, ranked, for a member of it (the function checks membership by the
   * caller's token); `undefined` when the caller is not a member or there is no such team.
   */
  async teamBoard(claims: JwtClaims, teamId: string): Promise<BoardRow[] | undefined> {
    try {
      return await this.db.asUser(claims, (tx) =>
        tx.query<BoardRow>('select user_id, display_name, points, rank from public.team_leaderboard($1)', [
          teamId,
        ]),
      )
    } catch (error) {
      if (sqlState(error) === 'PT404') return undefined
      throw error
    }
  }
}
