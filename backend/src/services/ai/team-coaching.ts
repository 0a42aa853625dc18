import type { AuthUser } from '@/lib/auth/types'
import { conflict } from '@/lib/errors/domain'
import type { LlmRouter } from '@/lib/llm/router'
import { completeJson } from '@/lib/llm/structured'
import type { ChatRequest } from '@/lib/llm/types'
import { storableDeep } from '@/lib/text'
import { type Coaching, CoachingSchema } from '@/services/ai/coaching'
import type { KnowledgeService } from '@/services/knowledge/service'
import { PILLARS, type PillarId } from '@/services/pilar/framework'
import type { RoundService } from '@/services/teams/rounds'
import type { RoundAggregate } from '@/services/teams/rounds-store'

const INSTRUCTIONS =
  'You are the PILAR coach for a team. You see only the aggregate of a team round (how many ' +
  'members completed it, means, spreads and consensus per force; never anyone’s own answers). ' +
  'Using it and the passages, reply with ONLY a JSON object: {"summary": string, "strengths": ' +
  'string[], "growth_areas": string[], "actions": string[]} (at most 5 items each; actions are ' +
  'concrete things the group can do together this week, starting where it disagrees most).'

/** How many forces each highlighted list (weakest, least agreed) names. */
const HIGHLIGHT = 2

/** Strong and shared: a strength of the group, not of some of its members. */
const STRONG_MEAN = 60
const HIGH_CONSENSUS = 0.7

export interface ForceFigure {
  key: string
  name: string
  n: number
  mean: number
  /** Null below 4 answers (the round's results leave the spread out then). */
  sd: number | null
  consensus: number | null
}

/** The aggregate's forces with their names: weakest first, and least agreed first. */
export function rankForces(aggregate: RoundAggregate, forceNames: Record<string, string>) {
  const forces: ForceFigure[] = Object.entries(aggregate.forces)
    .map(([key, f]) => ({
      key,
      name: forceNames[key] ?? key,
      n: f.n,
      mean: f.mean,
      sd: f.sd,
      consensus: f.consensus,
    }))
    .sort((a, b) => a.key.localeCompare(b.key))
  return {
    forces,
    weakest: [...forces].sort((a, b) => a.mean - b.mean),
    // Only forces whose spread is shown can be ranked by agreement.
    divided: forces
      .filter((f): f is ForceFigure & { consensus: number } => f.consensus !== null)
      .sort((a, b) => a.consensus - b.consensus || a.mean - b.mean),
  }
}

const figures = (f: ForceFigure) =>
  f.consensus === null ? `mean ${f.mean}/100` : `mean ${f.mean}/100, sd ${f.sd}, consensus ${f.consensus}`

/**
 * Rule-based team coaching from the aggregate alone, what the local provider answers (it is not
 * a language model): strengths are strong forces the group agrees on; growth areas are the
 * weakest and the least agreed forces; the first action names the force the group disagrees
 * most about.
 */
export function ruleBasedTeamCoaching(
  pillarId: PillarId,
  aggregate: RoundAggregate,
  forceNames: Record<string, string>,
): Coaching {
  const { forces, weakest, divided } = rankForces(aggregate, forceNames)
  const strengths = [...weakest]
    .reverse()
    .filter((f) => f.mean >= STRONG_MEAN && (f.consensus ?? 0) >= HIGH_CONSENSUS)
    .slice(0, 5)
  const growth = [...new Set([...weakest.slice(0, HIGHLIGHT), ...divided.slice(0, HIGHLIGHT)])].filter(
    (f) => !strengths.includes(f),
  )
  const mostDivided = divided[0]
  const lowest = weakest[0]
  const actions: string[] = []
  if (mostDivided) {
    actions.push(
      `The group disagrees most about ${mostDivided.name} (consensus ${mostDivided.consensus}): ask each member to describe one recent situation where it mattered, and listen before anyone decides anything.`,
    )
  }
  if (lowest && lowest !== mostDivided) {
    actions.push(
      `${lowest.name} is the group’s weakest force (mean ${lowest.mean}/100): agree on one small change to try this week and review it together next week.`,
    )
  }
  if (actions.length === 0)
    actions.push('Too few members answered the same forces to compare them: run another round.')
  const { title } = PILLARS[pillarId]
  return {
    summary: `[local provider: rule-based coaching from the team's aggregate] ${title}: ${aggregate.n} members completed the round; the team's mean is ${aggregate.pillar.mean}/100${aggregate.pillar.sd === null ? '' : ` (sd ${aggregate.pillar.sd})`} across ${forces.length} force(s).`,
    strengths: strengths.map((f) => `${f.name} (${figures(f)})`),
    growth_areas: growth.map((f) => `${f.name} (${figures(f)})`),
    actions,
  }
}

/**
 * What the model is told about the round: counts, means, spreads and consensus only. The
 * pillar's min and max are left out on purpose — each is one member's score.
 */
export function aggregatePrompt(
  pillarId: PillarId,
  mode: string,
  aggregate: RoundAggregate,
  { forces, divided, weakest }: ReturnType<typeof rankForces>,
) {
  const names = (list: ForceFigure[]) =>
    list
      .slice(0, HIGHLIGHT)
      .map((f) => f.name)
      .join(', ') || 'none'
  return [
    `Team round, pillar ${PILLARS[pillarId].title} (${mode}): ${aggregate.n} members completed it.`,
    aggregate.pillar.sd === null
      ? `Team pillar mean ${aggregate.pillar.mean}/100 (the spread is not shown below 4 completions).`
      : `Team pillar mean ${aggregate.pillar.mean}/100, sd ${aggregate.pillar.sd}.`,
    'Forces, least agreed first (those with too few answers for a spread last):',
    ...[...divided, ...forces.filter((f) => f.consensus === null)].map(
      (f) => `- ${f.name}: ${figures(f)} (n ${f.n})`,
    ),
    `The group agrees least on: ${names(divided)}.`,
    `Weakest forces: ${names(weakest)}.`,
  ].join('\n')
}

/** Coaching for a team round, grounded in its aggregate (never individual answers) and the knowledge base. */
export class TeamCoachingService {
  constructor(
    private readonly rounds: RoundService,
    private readonly knowledge: KnowledgeService,
    private readonly llm: LlmRouter,
    private readonly maxOutputTokens: number,
  ) {}

  async coach(
    user: AuthUser,
    { team_id, round_id }: { team_id: string; round_id: string },
    signal: AbortSignal,
  ) {
    // 404 for a non-member, exactly like a missing team or round; the aggregate comes from SQL.
    const { round, visible, results: aggregate } = await this.rounds.results(user, team_id, round_id)
    if (!visible || !aggregate) {
      throw conflict('The round’s results are hidden until it is closed with enough members completed')
    }
    const forceNames = Object.fromEntries(
      (await this.knowledge.forces(round.pillar_id)).forces.map((f) => [f.key, f.name]),
    )
    const ranked = rankForces(aggregate, forceNames)
    const focus = [...new Set([...ranked.divided.slice(0, HIGHLIGHT), ...ranked.weakest.slice(0, HIGHLIGHT)])]
    const grounding = await this.knowledge.ground(
      `${PILLARS[round.pillar_id].title} team ${focus.map((f) => f.name).join(' ')}`,
      { pillar_id: round.pillar_id, mode: round.mode },
      4,
      user,
    )
    const request: ChatRequest = {
      messages: [
        { role: 'system', content: INSTRUCTIONS },
        { role: 'user', content: aggregatePrompt(round.pillar_id, round.mode, aggregate, ranked) },
      ],
      context: grounding.passages.map((p) => p.content.slice(0, 1_200)),
      maxOutputTokens: this.maxOutputTokens,
    }
    const trace = { feature: 'team_coaching', userHash: user.idHash }
    const localFallback = () => ruleBasedTeamCoaching(round.pillar_id, aggregate, forceNames)
    const { value, provider, model } = await completeJson(CoachingSchema, request, {
      llm: this.llm,
      signal,
      trace,
      localFallback,
      what: 'team coaching JSON',
    })
    // Model-written JSON: no NUL or lone surrogate goes on from it.
    return { coaching: storableDeep(value), sources: grounding.sources, provider, model }
  }
}
