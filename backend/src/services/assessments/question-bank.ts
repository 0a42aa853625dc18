import type { Database } from '@/lib/db/database'
import type { PillarId } from '@/services/pilar/framework'

export interface Question {
  id: string
  pillar_id: PillarId
  force_key: string
  force_name: string
  text: string
}

/**
 * The Likert question bank, read once at boot from `public.assessment_questions` (seeded by
 * the assessments migration, the single source of the statements).
 */
export class QuestionBank {
  readonly #byPillar: Map<PillarId, Question[]>
  readonly #byId: Map<string, Question>

  private constructor(questions: Question[]) {
    this.#byPillar = new Map()
    this.#byId = new Map()
    for (const question of questions) {
      this.#byId.set(question.id, question)
      this.#byPillar.set(question.pillar_id, [...(this.#byPillar.get(question.pillar_id) ?? []), question])
    }
  }

  static async load(db: Database): Promise<QuestionBank> {
    const rows = await db.asService((tx) =>
      tx.query<Question>(
        'select id, pillar_id, force_key, force_name, text from public.assessment_questions order by pillar_id, position',
      ),
    )
    return new QuestionBank(rows)
  }

  forPillar(pillarId: PillarId): readonly Question[] {
    return this.#byPillar.get(pillarId) ?? []
  }

  get(questionId: string): Question | undefined {
    return this.#byId.get(questionId)
  }

  /** The question, if it belongs to this pillar. */
  find(pillarId: PillarId, questionId: string): Question | undefined {
    const question = this.#byId.get(questionId)
    return question?.pillar_id === pillarId ? question : undefined
  }
}
