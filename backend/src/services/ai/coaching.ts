import { z } from 'zod'
import type { AuthUser } from '@/lib/auth/types'
import { conflict } from '@/lib/errors/domain'
import type { LlmRouter } from '@/lib/llm/router'
import { completeJson } from '@/lib/llm/structured'
import { storableDeep } from '@/lib/text'
import type { AssessmentService } from '@/services/assessments/service'
import type { KnowledgeService } from '@/services/knowledge/service'
import { type Mode, PILLARS, type PillarId } from '@/services/pilar/framework'

export const CoachingSchema = z.object({
  summary: z.string().min(1).max(2_000),
  strengths: z.array(z.string().min(1).max(500)).max(8),
  growth_areas: z.array(z.string().min(1).max(500)).max(8),
  actions: z.array(z.string().min(1).max(500)).min(1).max(8),
})
export type Coaching = z.infer<typeof CoachingSchema>

const INSTRUCTIONS =
  'You are the PILAR coach. Using the assessment results and the passages, reply with ONLY a JSON ' +
  'object: {"summary": string, "strengths": string[], "growth_areas": string[], "actions": string[]} ' +
  '(at most 5 items each, actions concrete and doable this week).'

/**
 * Rule-based coaching from the scores alone: what the local provider answers, since it is not a
 * language model. Strong forces (≥ 60) are strengths, weak ones (≤ 40) growth areas.
 */
export function ruleBasedCoaching(
  pillarId: PillarId,
  results: { pillar_score: number; force_scores: Record<string, number> },
  forceNames: Record<string, string>,
): Coaching {
  const forces = Object.entries(results.force_scores).sort((a, b) => b[1] - a[1])
  const name = (key: string) => forceNames[key] ?? key
  const strengths = forces.filter(([, s]) => s >= 60).map(([k, s]) => `${name(k)} (${s}/100)`)
  const growth = forces.filter(([, s]) => s <= 40).map(([k, s]) => `${name(k)} (${s}/100)`)
  const weakest = forces.at(-1)
  const title = PILLARS[pillarId].title
  return {
    summary: `[local provider: rule-based coaching from your scores] ${title} scored ${results.pillar_score}/100 across ${forces.length} answered force(s).`,
    strengths,
    growth_areas: growth,
    actions: weakest
      ? [
          `Pick one recent situation where ${name(weakest[0])} mattered and discuss it with the group this week.`,
        ]
      : ['Answer more questions to get concrete actions.'],
  }
}

/** Coaching for the caller's own completed assessment, grounded in its results and the knowledge base. */
export class CoachingService {
  constructor(
    private readonly assessments: AssessmentService,
    private readonly knowledge: KnowledgeService,
    private readonly llm: LlmRouter,
    private readonly maxOutputTokens: number,
  ) {}

  async coach(
    user: AuthUser,
    { assessment_id, message }: { assessment_id: string; message?: string },
    signal: AbortSignal,
  ) {
    const assessment = await this.assessments.get(user, assessment_id) // 404 when not the caller's
    const results = assessment.results
    if (!results) throw conflict('Complete the assessment first; coaching works from its results')
    const forces = (await this.knowledge.forces(assessment.pillar_id)).forces
    const forceNames = Object.fromEntries(forces.map((f) => [f.key, f.name]))
    const scoreLines = Object.entries(results.force_scores).map(([k, s]) => `${forceNames[k] ?? k}: ${s}/100`)
    const grounding = await this.knowledge.ground(
      `${message ?? ''} ${Object.keys(results.force_scores)
        .map((k) => forceNames[k])
        .join(' ')}`,
      { pillar_id: assessment.pillar_id, mode: assessment.mode as Mode },
      4,
      user,
    )
    const request = {
      messages: [
        { role: 'system' as const, content: INSTRUCTIONS },
        {
          role: 'user' as const,
          content: `Pillar: ${PILLARS[assessment.pillar_id].title} (${assessment.mode}). Pillar score ${results.pillar_score}/100.\n${scoreLines.join('\n')}${message ? `\nMy question: ${message}` : ''}`,
        },
      ],
      context: grounding.passages.map((p) => p.content.slice(0, 1_200)),
      maxOutputTokens: this.maxOutputTokens,
    }
    const answer = await completeJson(CoachingSchema, request, {
      llm: this.llm,
      signal,
      trace: { feature: 'coaching', userHash: user.idHash },
      localFallback: () => ruleBasedCoaching(assessment.pillar_id, results, forceNames),
      what: 'coaching JSON',
    })
    return {
      // Model-written JSON: no NUL or lone surrogate goes on from it (to the client or a store).
      coaching: storableDeep(answer.value),
      sources: grounding.sources,
      provider: answer.provider,
      model: answer.model,
    }
  }
}
