import type { AuthUser } from '@/lib/auth/types'
import type { LlmRouter } from '@/lib/llm/router'
import { storable } from '@/lib/text'
import type { KnowledgeService } from '@/services/knowledge/service'
import { type Mode, PILLARS, type PillarId } from '@/services/pilar/framework'

/** Guidance on working with one pillar, grounded in the knowledge base. */
export class GuidanceService {
  constructor(
    private readonly knowledge: KnowledgeService,
    private readonly llm: LlmRouter,
    private readonly maxOutputTokens: number,
  ) {}

  async guide(
    user: Pick<AuthUser, 'id' | 'idHash'>,
    input: { pillar_id: PillarId; mode: Mode; context?: string },
    signal: AbortSignal,
  ) {
    const pillar = PILLARS[input.pillar_id]
    const question = `How can a group strengthen ${pillar.title}?${input.context ? ` ${input.context}` : ''}`
    const grounding = await this.knowledge.ground(
      question,
      { pillar_id: input.pillar_id, mode: input.mode },
      5,
      user,
    )
    const answer = await this.llm.complete(
      {
        messages: [
          {
            role: 'system',
            content: `You are the PILAR coach. Give practical guidance on the ${pillar.title} pillar (${input.mode} mode) in a few short paragraphs, grounded in the passages.`,
          },
          { role: 'user', content: question },
        ],
        context: grounding.passages.map((p) => p.content.slice(0, 1_200)),
        maxOutputTokens: this.maxOutputTokens,
      },
      signal,
      { feature: 'guidance', userHash: user.idHash },
    )
    return {
      // Not stored today, but model output all the same: nothing a database would refuse.
      guidance: storable(answer.text),
      sources: grounding.sources,
      provider: answer.provider,
      model: answer.model,
    }
  }
}
