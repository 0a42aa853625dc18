import { z } from 'zod'
import type { AuthUser } from '@/lib/auth/types'
import type { LlmRouter } from '@/lib/llm/router'
import { completeJson } from '@/lib/llm/structured'
import { storableDeep } from '@/lib/text'
import type { KnowledgeService } from '@/services/knowledge/service'
import { type Mode, PILLARS, type PillarId, pillarsOf } from '@/services/pilar/framework'

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const
export type Difficulty = (typeof DIFFICULTIES)[number]

export interface QuizQuestion {
  id: string
  question: string
  options: string[]
  correct_index: number
  force_key: string
  difficulty: Difficulty
}

function questionSchema(forceKeys: string[]) {
  return z
    .object({
      question: z.string().min(10).max(500),
      options: z.array(z.string().min(1).max(200)).min(2).max(6),
      correct_index: z.number().int().min(0),
      force_key: z.enum(forceKeys as [string, ...string[]]),
      difficulty: z.enum(DIFFICULTIES),
    })
    .refine((q) => q.correct_index < q.options.length, { message: 'correct_index outside options' })
    .refine((q) => new Set(q.options).size === q.options.length, { message: 'options repeat' })
}

/** A whole quiz of at most `count` questions; one invalid question refuses it all. */
const quizSchema = (forceKeys: string[], count: number) =>
  z.object({ questions: z.array(questionSchema(forceKeys)).min(1).max(count) })

/** Deterministic rotation, so the right answer is not always first. */
const rotate = <T>(items: T[], by: number) => items.map((_, i) => items[(i + by) % items.length] as T)

/**
 * Multiple-choice questions about a pillar, written by the model as JSON and validated (one
 * retry), or — with the local provider — generated from the framework data itself.
 */
export class QuizService {
  constructor(
    private readonly knowledge: KnowledgeService,
    private readonly llm: LlmRouter,
    private readonly maxOutputTokens: number,
  ) {}

  async questions(
    user: Pick<AuthUser, 'idHash'>,
    input: { pillar_id: PillarId; mode: Mode; count: number; difficulty?: Difficulty },
    signal: AbortSignal,
  ): Promise<QuizQuestion[]> {
    const { forces } = await this.knowledge.forces(input.pillar_id)
    const forceKeys = forces.map((f) => f.key)
    const difficulty = input.difficulty ?? 'medium'
    const request = {
      messages: [
        {
          role: 'system' as const,
          content:
            'Write multiple-choice quiz questions about the PILAR framework. Reply with ONLY a JSON object ' +
            '{"questions": [{"question": string, "options": string[4], "correct_index": number, "force_key": string, "difficulty": "easy"|"medium"|"hard"}]}. ' +
            `force_key must be one of: ${forceKeys.join(', ')}.`,
        },
        {
          role: 'user' as const,
          content: `${input.count} ${difficulty} questions about ${PILLARS[input.pillar_id].title} (${input.mode} mode).`,
        },
      ],
      context: forces.map((f) => `${f.name} (${f.key}): ${f.description}`),
      maxOutputTokens: this.maxOutputTokens,
    }
    const answer = await completeJson(quizSchema(forceKeys, input.count), request, {
      llm: this.llm,
      signal,
      trace: { feature: 'quiz', userHash: user.idHash },
      localFallback: () => ({
        questions: this.#fromFramework(input.pillar_id, input.mode, forces, difficulty).slice(0, input.count),
      }),
      what: 'quiz JSON',
    })
    // Model-written JSON: no NUL or lone surrogate goes on from it (to the client or a store).
    return storableDeep(answer.value.questions).map((q) => ({ id: crypto.randomUUID(), ...q }))
  }

  #fromFramework(
    pillarId: PillarId,
    mode: Mode,
    forces: { key: string; name: string; description: string }[],
    difficulty: Difficulty,
  ): Omit<QuizQuestion, 'id'>[] {
    const names = forces.map((f) => f.name)
    const pillarTitles = pillarsOf(mode).map((id) => PILLARS[id].title)
    const out: Omit<QuizQuestion, 'id'>[] = []
    forces.forEach((force, i) => {
      const described = force.description.replace(new RegExp(`^${force.name} is `), '')
      const options = rotate(names, i + 1)
      out.push({
        question: `Which force of ${PILLARS[pillarId].title} is this: "${described}"`,
        options,
        correct_index: options.indexOf(force.name),
        force_key: force.key,
        difficulty,
      })
    })
    forces.forEach((force, i) => {
      const options = rotate(pillarTitles, i + 2)
      out.push({
        question: `In the ${mode} mode, which pillar does the force "${force.name}" belong to?`,
        options,
        correct_index: options.indexOf(PILLARS[pillarId].title),
        force_key: force.key,
        difficulty,
      })
    })
    return out
  }
}
