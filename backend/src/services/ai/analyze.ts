import type { Embedder } from '@/lib/rag/embedder'
import type { KnowledgeService } from '@/services/knowledge/service'
import { type Mode, PILLAR_IDS, PILLARS, type PillarId } from '@/services/pilar/framework'

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0)

/**
 * How well a text aligns with each pillar: the cosine similarity between the text's embedding
 * and each pillar's profile (its description and its forces), with the embedder configured for
 * the knowledge base. A measure of shared meaning (or, with the local embedder, vocabulary),
 * not a model's judgement; the rationale names the closest forces.
 */
export class AnalyzeService {
  #profiles: Map<PillarId, { vector: number[]; forces: { name: string; vector: number[] }[] }> | undefined

  constructor(
    private readonly knowledge: KnowledgeService,
    private readonly embedder: Embedder,
  ) {}

  async analyze(content: string) {
    const profiles = await this.#loadProfiles()
    const [vector = []] = await this.embedder.embed([content])
    const alignment = PILLAR_IDS.map((pillarId) => {
      const profile = profiles.get(pillarId)
      const score = Math.max(0, Math.min(1, cosine(vector, profile?.vector ?? [])))
      const closest = [...(profile?.forces ?? [])]
        .map((f) => ({ name: f.name, score: cosine(vector, f.vector) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 2)
        .map((f) => f.name)
      return {
        pillar_id: pillarId,
        mode: PILLARS[pillarId].mode as Mode,
        score: Math.round(score * 1_000) / 1_000,
        rationale: `Closest forces: ${closest.join(' and ')} (similarity with the ${this.embedder.model} embedder).`,
      }
    }).sort((a, b) => b.score - a.score)
    return { alignment, primary_pillar: alignment[0]?.pillar_id ?? PILLAR_IDS[0] }
  }

  async #loadProfiles() {
    if (this.#profiles) return this.#profiles
    const forces = (await Promise.all(PILLAR_IDS.map((id) => this.knowledge.forces(id)))).map((f, i) => ({
      pillarId: PILLAR_IDS[i] as PillarId,
      forces: f.forces,
    }))
    const texts = forces.flatMap(({ pillarId, forces: list }) => [
      `${PILLARS[pillarId].title}. ${list.map((f) => `${f.name}: ${f.description}`).join(' ')}`,
      ...list.map((f) => `${f.name}: ${f.description}`),
    ])
    const vectors = await this.embedder.embed(texts)
    const profiles = new Map<PillarId, { vector: number[]; forces: { name: string; vector: number[] }[] }>()
    let i = 0
    for (const { pillarId, forces: list } of forces) {
      const vector = vectors[i++] ?? []
      profiles.set(pillarId, {
        vector,
        forces: list.map((f) => ({ name: f.name, vector: vectors[i++] ?? [] })),
      })
    }
    this.#profiles = profiles
    return profiles
  }
}
