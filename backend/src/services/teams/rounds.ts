import type { AuthUser } from '@/lib/auth/types'
import { conflict, invalid, notFound } from '@/lib/errors/domain'
import { decodeCursor, pageOf } from '@/lib/http/pagination'
import { LruTtl } from '@/lib/lru-ttl'
import type { Assessment, AssessmentService } from '@/services/assessments/service'
import { type Mode, PILLARS, type PillarId, pillarInMode } from '@/services/pilar/framework'
import type { RoundAggregate, RoundProgress, RoundRow, RoundStore } from '@/services/teams/rounds-store'
import { MANAGERS, rethrowRefusal, type TeamService } from '@/services/teams/service'

const iso = (value: Date | string) => new Date(value).toISOString()
const FROZEN_TTL_MS = 10 * 60_000

export const presentRound = (row: RoundRow, progress: RoundProgress | undefined) => ({
  id: row.id,
  team_id: row.team_id,
  name: row.name,
  pillar_id: row.pillar_id,
  mode: row.mode,
  status: row.status,
  created_by: row.created_by,
  closes_at: row.closes_at ? iso(row.closes_at) : null,
  participants: progress?.started ?? 0,
  completed: progress?.completed ?? 0,
  created_at: iso(row.created_at),
  closed_at: row.closed_at ? iso(row.closed_at) : null,
})
export type Round = ReturnType<typeof presentRound>

export interface RoundResults {
  round: Round
  participation: { members: number; started: number; completed: number }
  visible: boolean
  min_completed: number
  results: RoundAggregate | null
}

/**
 * Team rounds: owners and admins open one for a pillar and close it; members join with their
 * own assessment (answered through the assessment routes). Results are the frozen aggregate of
 * a closed round that met the minimum — computed and guarded in SQL; this service only asks.
 */
export class RoundService {
  /**
   * Results of closed rounds, which never change once frozen: a read then costs the membership
   * check alone. Bounded, and kept 10 minutes so an operator's SQL correction shows soon.
   */
  readonly #frozen = new LruTtl<{ teamId: string; value: RoundResults }>(2_000)

  constructor(
    private readonly store: RoundStore,
    private readonly teams: TeamService,
    private readonly assessments: AssessmentService,
  ) {}

  async create(
    user: AuthUser,
    teamId: string,
    input: { name: string; pillar_id: PillarId; mode: Mode; closes_at?: string | null },
  ): Promise<Round> {
    if (!pillarInMode(input.pillar_id, input.mode)) {
      throw invalid(`Pillar ${input.pillar_id} belongs to the ${PILLARS[input.pillar_id].mode} mode`, [
        { field: 'body.pillar_id', message: `Not a pillar of the ${input.mode} mode` },
      ])
    }
    if (input.closes_at && new Date(input.closes_at).getTime() <= Date.now()) {
      throw invalid('closes_at must be in the future', [
        { field: 'body.closes_at', message: 'Must be in the future' },
      ])
    }
    return this.teams.withRole(user, teamId, MANAGERS, async (tx) => {
      // As UTC: zod accepts offsets Postgres refuses (beyond ±15:59).
      const closesAt = input.closes_at ? new Date(input.closes_at).toISOString() : null
      const row = await this.store.create(tx, teamId, { ...input, closes_at: closesAt })
      return presentRound(row, (await this.store.progress(tx, [row.id])).get(row.id))
    })
  }

  async list(
    user: AuthUser,
    teamId: string,
    query: { limit: number; cursor?: string; status?: 'open' | 'closed' },
  ) {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    await this.#settle(user, teamId)
    return this.teams.withRole(user, teamId, 'any', async (tx) => {
      const rows = await this.store.rounds(tx, teamId, { ...query, after })
      const progress = await this.store.progress(
        tx,
        rows.slice(0, query.limit).map((r) => r.id),
      )
      return pageOf(
        rows,
        query.limit,
        (row) => row.id,
        (row) => presentRound(row, progress.get(row.id)),
      )
    })
  }

  async get(user: AuthUser, teamId: string, roundId: string) {
    await this.#settle(user, teamId)
    return this.teams.withRole(user, teamId, 'any', async (tx) => {
      const row = await this.store.round(tx, teamId, roundId)
      if (!row) throw notFound('Round')
      return {
        round: presentRound(row, (await this.store.progress(tx, [roundId])).get(roundId)),
        my_assessment_id: (await this.store.myAssessment(tx, roundId, user.id)) ?? null,
      }
    })
  }

  /** The caller's own assessment for the round: created once, the same one on every call. */
  async participate(user: AuthUser, teamId: string, roundId: string): Promise<Assessment> {
    await this.#settle(user, teamId)
    const assessmentId = await this.teams.withRole(user, teamId, 'any', async (tx) => {
      const row = await this.store.round(tx, teamId, roundId)
      if (!row) throw notFound('Round')
      const existing = await this.store.myAssessment(tx, roundId, user.id)
      if (existing) return existing
      if (row.status !== 'open') throw conflict('The round is closed')
      return this.store.participate(tx, row, user.id)
    })
    return this.assessments.get(user, assessmentId)
  }

  async close(user: AuthUser, teamId: string, roundId: string): Promise<Round> {
    return this.teams.withRole(user, teamId, MANAGERS, async (tx) => {
      const row = await this.store.round(tx, teamId, roundId)
      if (!row) throw notFound('Round')
      if (row.status === 'closed') throw conflict('The round is already closed')
      try {
        await this.store.close(tx, roundId)
      } catch (error) {
        rethrowRefusal(error, 'Round', 'The round is already closed')
      }
      const closed = await this.store.round(tx, teamId, roundId)
      if (!closed) throw notFound('Round')
      return presentRound(closed, (await this.store.progress(tx, [roundId])).get(roundId))
    })
  }

  async results(user: AuthUser, teamId: string, roundId: string): Promise<RoundResults> {
    const frozen = this.#frozen.get(roundId, Date.now())
    if (frozen?.teamId === teamId) {
      // Still checked on every read: a member who left sees nothing at once.
      await this.teams.withRole(user, teamId, 'any', async () => {})
      return frozen.value
    }
    const answer = await this.#results(user, teamId, roundId)
    if (answer.round.status === 'closed') {
      this.#frozen.set(roundId, { teamId, value: answer }, Date.now() + FROZEN_TTL_MS)
    }
    return answer
  }

  async #results(user: AuthUser, teamId: string, roundId: string): Promise<RoundResults> {
    return this.teams.withRole(user, teamId, 'any', async (tx) => {
      let answer: Awaited<ReturnType<RoundStore['results']>>
      try {
        answer = await this.store.results(tx, roundId) // settles the round first, in SQL
      } catch (error) {
        rethrowRefusal(error, 'Round')
      }
      // Read after the function settled it; also what ties the round to this team (the function
      // only checks membership of the round's own team).
      const row = await this.store.round(tx, teamId, roundId)
      if (!row) throw notFound('Round')
      return {
        round: presentRound(row, { round_id: roundId, ...answer }),
        participation: { members: answer.members, started: answer.started, completed: answer.completed },
        visible: answer.visible,
        min_completed: answer.min_completed,
        results: answer.visible && answer.results ? ordered(answer.results) : null,
      }
    })
  }

  /**
   * Participation rate and per-pillar trend across closed rounds. Only rounds whose aggregate
   * was visible enter a trend; counts come from every closed round.
   */
  async analytics(user: AuthUser, teamId: string) {
    await this.#settle(user, teamId)
    return this.teams.withRole(user, teamId, 'any', async (tx) => {
      const members = await this.store.memberCount(tx, teamId)
      const closed = await this.store.closedRounds(tx, teamId)
      const invited = closed.reduce((sum, r) => sum + r.final_members, 0)
      const completed = closed.reduce((sum, r) => sum + r.final_completed, 0)
      const byPillar = new Map<
        string,
        { pillar_id: PillarId; mode: Mode; trend: { round_id: string; closed_at: string; mean: number }[] }
      >()
      for (const round of closed) {
        if (round.mean === null) continue
        const key = `${round.mode}:${round.pillar_id}`
        const entry = byPillar.get(key) ?? { pillar_id: round.pillar_id, mode: round.mode, trend: [] }
        entry.trend.push({ round_id: round.id, closed_at: iso(round.closed_at), mean: round.mean })
        byPillar.set(key, entry)
      }
      return {
        members,
        rounds: closed.length,
        participation_rate: invited > 0 ? Math.round((completed / invited) * 10_000) / 10_000 : null,
        pillars: [...byPillar.values()].map((p) => ({ ...p, latest_mean: p.trend.at(-1)?.mean ?? null })),
      }
    })
  }

  /** Rounds close when read if they are due: the caller must be a member before anything runs. */
  async #settle(user: AuthUser, teamId: string): Promise<void> {
    await this.teams.withRole(user, teamId, 'any', async () => {})
    await this.store.settle(teamId)
  }
}

/** The aggregate with its keys in the contract's order (jsonb stores them shortest first). */
function ordered(aggregate: RoundAggregate): RoundAggregate {
  const { mean, sd, min, max } = aggregate.pillar
  return {
    n: aggregate.n,
    pillar: { mean, sd, min, max },
    forces: Object.fromEntries(
      Object.entries(aggregate.forces)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, f]) => [key, { n: f.n, mean: f.mean, sd: f.sd, consensus: f.consensus }]),
    ),
  }
}
