import type { LlmRouter } from '@/lib/llm/router'
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
    input: { pillar_id: PillarId; mode: Mode; context?: string },
    signal: AbortSignal,
    userHash?: string,
  ) {
    const pillar = PILLARS[input.pillar_id]
    const question = `How can a group strengthen ${pillar.title}?${input.context ? ` ${input.context}` : ''}`
    const grounding = await this.knowledge.ground(
      question,
      { pillar_id: input.pillar_id, mode: input.mode },
      5,
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
      { feature: 'guidance', userHash },
    )
    return {
      guidance: answer.text,
      sources: grounding.sources,
      provider: answer.provider,
      model: answer.model,
    }
  }
}
