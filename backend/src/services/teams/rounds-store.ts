import type { Database, Tx } from '@/lib/db/database'
import { keysetCondition } from '@/lib/db/keyset'
import type { Keyset } from '@/lib/http/pagination'
import type { Mode, PillarId } from '@/services/pilar/framework'

export interface RoundRow {
  id: string
  team_id: string
  name: string
  pillar_id: PillarId
  mode: Mode
  status: 'open' | 'closed'
  created_by: string | null
  closes_at: Date | null
  created_at: Date
  closed_at: Date | null
  created_key: string
}

export interface RoundProgress {
  round_id: string
  members: number
  started: number
  completed: number
}

/** A round's aggregate as the SQL stores it when the round closes (see _team_round_aggregate). */
export interface RoundAggregate {
  n: number
  /** sd is null below 4 completions, min and max below 5 (see _team_round_aggregate). */
  pillar: { mean: number; sd: number | null; min: number | null; max: number | null }
  /** Per force; sd and consensus are null below 4 answers to it. */
  forces: Record<string, { n: number; mean: number; sd: number | null; consensus: number | null }>
}

/** What team_round_results answers: counts always, the aggregate only when visible. */
export interface RoundResultsRow {
  status: 'open' | 'closed'
  members: number
  started: number
  completed: number
  visible: boolean
  min_completed: number
  results: RoundAggregate | null
}

/** A closed round's frozen figures, for team analytics. */
export interface ClosedRoundRow {
  id: string
  pillar_id: PillarId
  mode: Mode
  closed_at: Date
  final_members: number
  final_completed: number
  /** The frozen aggregate's pillar mean, null when the round did not meet the minimum. */
  mean: number | null
}

const ROUND_COLUMNS = `r.id, r.team_id, r.name, r.pillar_id, r.mode, r.status, r.created_by, r.closes_at,
  r.created_at, r.closed_at, to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key`

/**
 * SQL for team rounds. Reads run as the user (RLS: members see their team's rounds and only
 * their own participation); counts and aggregates come from security-definer functions that
 * return nothing per person. Settling due rounds runs as the service before a read.
 */
export class RoundStore {
  constructor(readonly db: Database) {}

  /** Closes the team's due rounds (past closes_at, or completed by every member). */
  async settle(teamId: string): Promise<void> {
    await this.db.asService((tx) => tx.query('select public.settle_team_rounds($1)', [teamId]))
  }

  async create(
    tx: Tx,
    teamId: string,
    input: { name: string; pillar_id: PillarId; mode: Mode; closes_at: string | null },
  ): Promise<RoundRow> {
    const [row] = await tx.query<RoundRow>(
      `insert into public.team_rounds as r (team_id, name, pillar_id, mode, closes_at)
       values ($1, $2, $3, $4, $5::timestamptz) returning ${ROUND_COLUMNS}`,
      [teamId, input.name, input.pillar_id, input.mode, input.closes_at],
    )
    if (!row) throw new Error('insert returned no row')
    return row
  }

  async round(tx: Tx, teamId: string, roundId: string): Promise<RoundRow | undefined> {
    const [row] = await tx.query<RoundRow>(
      `select ${ROUND_COLUMNS} from public.team_rounds r where r.id = $1 and r.team_id = $2`,
      [roundId, teamId],
    )
    return row
  }

  /** Newest first; `limit + 1` rows. */
  async rounds(
    tx: Tx,
    teamId: string,
    options: { limit: number; after?: Keyset; status?: 'open' | 'closed' },
  ): Promise<RoundRow[]> {
    const params: unknown[] = [teamId, options.limit + 1]
    let where = 'r.team_id = $1'
    if (options.status) {
      params.push(options.status)
      where += ` and r.status = $${params.length}`
    }
    where += keysetCondition(params, options.after, 'r.created_at, r.id', '<')
    return tx.query<RoundRow>(
      `select ${ROUND_COLUMNS} from public.team_rounds r where ${where}
        order by r.created_at desc, r.id desc limit $2`,
      params,
    )
  }

  async progress(tx: Tx, roundIds: readonly string[]): Promise<Map<string, RoundProgress>> {
    if (roundIds.length === 0) return new Map()
    const rows = await tx.query<RoundProgress>(
      'select round_id, members, started, completed from public.team_round_progress($1::uuid[])',
      [roundIds],
    )
    return new Map(rows.map((r) => [r.round_id, r]))
  }

  /** The caller's own assessment for the round, if they joined it. */
  async myAssessment(tx: Tx, roundId: string, userId: string): Promise<string | undefined> {
    const [row] = await tx.query<{ assessment_id: string }>(
      'select assessment_id from public.team_round_participants where round_id = $1 and user_id = $2',
      [roundId, userId],
    )
    return row?.assessment_id
  }

  /**
   * Links a new assessment of the caller's to the round, once. The insert takes the
   * (round, user) key: a concurrent call waits on it and then finds the winner's link, and the
   * loser's fresh assessment is removed again, so every call answers with the same assessment.
   */
  async participate(tx: Tx, round: RoundRow, userId: string): Promise<string> {
    const [assessment] = await tx.query<{ id: string }>(
      'insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, $2, $3) returning id',
      [userId, round.pillar_id, round.mode],
    )
    if (!assessment) throw new Error('insert returned no row')
    const linked = await tx.query(
      `insert into public.team_round_participants (round_id, user_id, assessment_id) values ($1, $2, $3)
       on conflict (round_id, user_id) do nothing returning assessment_id`,
      [round.id, userId, assessment.id],
    )
    if (linked.length > 0) return assessment.id
    await tx.query('delete from public.assessment_sessions where id = $1 and user_id = $2', [
      assessment.id,
      userId,
    ])
    const existing = await this.myAssessment(tx, round.id, userId)
    if (!existing) throw new Error('round participation vanished')
    return existing
  }

  async close(tx: Tx, roundId: string): Promise<void> {
    await tx.query('select public.close_team_round($1)', [roundId])
  }

  async results(tx: Tx, roundId: string): Promise<RoundResultsRow> {
    const [row] = await tx.query<{ r: RoundResultsRow }>('select public.team_round_results($1) as r', [
      roundId,
    ])
    if (!row) throw new Error('team_round_results returned no row')
    return typeof row.r === 'string' ? (JSON.parse(row.r) as RoundResultsRow) : row.r
  }

  async memberCount(tx: Tx, teamId: string): Promise<number> {
    const [row] = await tx.query<{ n: number }>(
      'select count(*)::int as n from public.team_members where team_id = $1',
      [teamId],
    )
    return row?.n ?? 0
  }

  /** Every closed round of the team, oldest first, with its frozen counts and pillar mean. */
  async closedRounds(tx: Tx, teamId: string): Promise<ClosedRoundRow[]> {
    return tx.query<ClosedRoundRow>(
      `select r.id, r.pillar_id, r.mode, r.closed_at, r.final_members, r.final_completed,
              (r.results -> 'pillar' ->> 'mean')::float8 as mean
         from public.team_rounds r
        where r.team_id = $1 and r.status = 'closed'
        order by r.closed_at, r.id`,
      [teamId],
    )
  }
}
