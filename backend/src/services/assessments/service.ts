import type { AuthUser } from '@/lib/auth/types'
import type { Tx } from '@/lib/db/database'
import { conflict, invalid, notFound } from '@/lib/errors/domain'
import { decodeCursor, encodeCursor } from '@/lib/http/pagination'
import type { QuestionBank } from '@/services/assessments/question-bank'
import { scoreAssessment } from '@/services/assessments/scoring'
import type { AssessmentRow, AssessmentStatus, AssessmentStore } from '@/services/assessments/store'
import { type Mode, PILLARS, type PillarId, pillarInMode } from '@/services/pilar/framework'

/** The API.md assessment object: the stored fields, with counts and ISO timestamps. */
export interface Assessment
  extends Omit<AssessmentRow, 'created_at' | 'updated_at' | 'completed_at' | 'created_key'> {
  answered_count: number
  total_questions: number
  created_at: string
  updated_at: string
  completed_at: string | null
}

const iso = (value: Date | string) => new Date(value).toISOString()

/**
 * What completing an assessment awards (the points ledger), run inside the completing
 * transaction: the award commits or rolls back with the completion, exactly once.
 */
export interface CompletionAwards {
  assessmentCompleted(tx: Tx, userId: string, assessmentId: string): Promise<void>
}

const NO_AWARDS: CompletionAwards = { assessmentCompleted: async () => {} }

/** The assessment lifecycle: create, list, read, answer, complete, delete — owner only. */
export class AssessmentService {
  constructor(
    private readonly store: AssessmentStore,
    private readonly bank: QuestionBank,
    private readonly awards: CompletionAwards = NO_AWARDS,
  ) {}

  async create(user: AuthUser, pillarId: PillarId, mode: Mode): Promise<Assessment> {
    if (!pillarInMode(pillarId, mode)) {
      throw invalid(`Pillar ${pillarId} belongs to the ${PILLARS[pillarId].mode} mode, not ${mode}`, [
        { field: 'body.pillar_id', message: `Not a pillar of the ${mode} mode` },
      ])
    }
    return this.#present(await this.store.insert(user.claims, pillarId, mode))
  }

  async list(
    user: AuthUser,
    query: { limit: number; cursor?: string; status?: AssessmentStatus },
  ): Promise<{ data: Assessment[]; next_cursor: string | null }> {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const rows = await this.store.list(user.claims, { limit: query.limit, after, status: query.status })
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return {
      data: page.map((row) => this.#present(row)),
      next_cursor:
        rows.length > query.limit && last ? encodeCursor({ at: last.created_key, id: last.id }) : null,
    }
  }

  async get(user: AuthUser, id: string): Promise<Assessment> {
    return this.#present(await this.#owned(user, id))
  }

  async questions(user: AuthUser, id: string) {
    const row = await this.#owned(user, id)
    return this.bank.forPillar(row.pillar_id).map((q) => ({
      id: q.id,
      force_key: q.force_key,
      text: q.text,
      scale: { min: 1 as const, max: 5 as const },
    }))
  }

  /** Records one answer through the atomic database function; re-answering replaces. */
  async answer(user: AuthUser, id: string, questionId: string, answer: number) {
    const outcome = await this.store.answer(user.claims, id, questionId, answer)
    if (!outcome.ok) {
      if (outcome.refusal === 'not_found') throw notFound('Assessment')
      if (outcome.refusal === 'completed')
        throw conflict('This assessment is completed; answers can no longer change')
      throw invalid(`Unknown question ${questionId} for this assessment`, [
        { field: 'body.question_id', message: 'Not a question of this assessment' },
      ])
    }
    // The function accepted the question, so it belongs to this assessment's pillar: no extra
    // read is needed for the total.
    const pillarId = this.bank.get(questionId)?.pillar_id
    return {
      assessment_id: id,
      question_id: questionId,
      answered_count: outcome.answeredCount,
      total_questions: pillarId ? this.bank.forPillar(pillarId).length : 0,
    }
  }

  async complete(user: AuthUser, id: string): Promise<Assessment> {
    const outcome = await this.store.complete(
      user.id,
      id,
      (row) =>
        scoreAssessment(
          this.bank.forPillar(row.pillar_id),
          Object.fromEntries(Object.entries(row.responses).map(([qid, r]) => [qid, r.answer])),
        ),
      (tx, row) => this.awards.assessmentCompleted(tx, row.user_id, row.id),
    )
    if (!outcome.ok) {
      if (outcome.refusal === 'not_found') throw notFound('Assessment')
      if (outcome.refusal === 'completed') throw conflict('This assessment is already completed')
      throw conflict('Answer at least one question before completing the assessment')
    }
    return this.#present(outcome.row)
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    if (!(await this.store.remove(user.claims, id))) throw notFound('Assessment')
  }

  async #owned(user: AuthUser, id: string): Promise<AssessmentRow> {
    const row = await this.store.find(user.claims, id)
    if (!row) throw notFound('Assessment')
    return row
  }

  #present(row: AssessmentRow): Assessment {
    return {
      id: row.id,
      user_id: row.user_id,
      pillar_id: row.pillar_id,
      mode: row.mode,
      status: row.status,
      responses: row.responses,
      answered_count: Object.keys(row.responses).length,
      total_questions: this.bank.forPillar(row.pillar_id).length,
      results: row.results,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
      completed_at: row.completed_at ? iso(row.completed_at) : null,
    }
  }
}
