import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import type { Keyset } from '@/lib/http/pagination'
import type { AssessmentResults } from '@/services/assessments/scoring'
import type { Mode, PillarId } from '@/services/pilar/framework'

export type AssessmentStatus = 'in_progress' | 'completed'

export interface AssessmentRow {
  id: string
  user_id: string
  pillar_id: PillarId
  mode: Mode
  status: AssessmentStatus
  responses: Record<string, { answer: number; answered_at: string }>
  results: AssessmentResults | null
  created_at: Date
  updated_at: Date
  completed_at: Date | null
  /** `created_at` in UTC with microseconds, for keyset cursors. */
  created_key: string
}

const COLUMNS = `id, user_id, pillar_id, mode, status, responses, results, created_at, updated_at, completed_at,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key`

/** Why the answer function refused, from its SQLSTATE. */
export type AnswerRefusal = 'not_found' | 'completed' | 'invalid'

const REFUSALS: Record<string, AnswerRefusal> = { PT404: 'not_found', PT409: 'completed', PT400: 'invalid' }

/**
 * SQL for assessments. Reads, inserts and deletes run as the user (RLS applies) and also
 * filter by owner; answers go through `submit_assessment_answer`; completion writes as the
 * service, still filtered by owner, because users hold no UPDATE privilege.
 */
export class AssessmentStore {
  constructor(private readonly db: Database) {}

  async insert(claims: JwtClaims, pillarId: PillarId, mode: Mode): Promise<AssessmentRow> {
    const [row] = await this.db.asUser(claims, (tx) =>
      tx.query<AssessmentRow>(
        `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, $2, $3) returning ${COLUMNS}`,
        [claims.sub, pillarId, mode],
      ),
    )
    if (!row) throw new Error('insert returned no row')
    return row
  }

  async find(claims: JwtClaims, id: string): Promise<AssessmentRow | undefined> {
    const [row] = await this.db.asUser(claims, (tx) =>
      tx.query<AssessmentRow>(
        `select ${COLUMNS} from public.assessment_sessions where id = $1 and user_id = $2`,
        [id, claims.sub],
      ),
    )
    return row
  }

  /** Newest first; `limit + 1` rows are read so the caller knows whether a next page exists. */
  async list(
    claims: JwtClaims,
    options: { limit: number; after?: Keyset; status?: AssessmentStatus },
  ): Promise<AssessmentRow[]> {
    const params: unknown[] = [claims.sub, options.limit + 1]
    let where = 'user_id = $1'
    if (options.status) {
      params.push(options.status)
      where += ` and status = $${params.length}`
    }
    if (options.after) {
      params.push(options.after.at, options.after.id)
      where += ` and (created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`
    }
    return this.db.asUser(claims, (tx) =>
      tx.query<AssessmentRow>(
        `select ${COLUMNS} from public.assessment_sessions where ${where}
         order by created_at desc, id desc limit $2`,
        params,
      ),
    )
  }

  /** One atomic, owner-checked write; returns the answered count or why it was refused. */
  async answer(
    claims: JwtClaims,
    id: string,
    questionId: string,
    answer: number,
  ): Promise<{ ok: true; answeredCount: number } | { ok: false; refusal: AnswerRefusal }> {
    try {
      const [row] = await this.db.asUser(claims, (tx) =>
        tx.query<{ answered_count: number }>(
          'select public.submit_assessment_answer($1, $2, $3) as answered_count',
          [id, questionId, answer],
        ),
      )
      return { ok: true, answeredCount: Number(row?.answered_count) }
    } catch (error) {
      const refusal = REFUSALS[sqlState(error) ?? '']
      if (refusal) return { ok: false, refusal }
      throw error
    }
  }

  /**
   * Completes an in-progress assessment with results computed by `score` from the responses
   * as they are under a row lock, so no answer can land between scoring and completion.
   * `completed` runs in the same transaction, so what it writes commits with the completion.
   */
  async complete(
    userId: string,
    id: string,
    score: (row: AssessmentRow) => AssessmentResults | null,
    /** Runs in the completing transaction after the update (the points awards). */
    completed?: (tx: Tx, row: AssessmentRow) => Promise<void>,
  ): Promise<
    { ok: true; row: AssessmentRow } | { ok: false; refusal: 'not_found' | 'completed' | 'no_answers' }
  > {
    return this.db.asService(async (tx) => {
      const [row] = await tx.query<AssessmentRow>(
        `select ${COLUMNS} from public.assessment_sessions where id = $1 and user_id = $2 for update`,
        [id, userId],
      )
      if (!row) return { ok: false, refusal: 'not_found' }
      if (row.status === 'completed') return { ok: false, refusal: 'completed' }
      const results = score(row)
      if (!results) return { ok: false, refusal: 'no_answers' }
      const [updated] = await tx.query<AssessmentRow>(
        `update public.assessment_sessions
            set status = 'completed', results = $3::text::jsonb, completed_at = now()
          where id = $1 and user_id = $2
          returning ${COLUMNS}`,
        [id, userId, JSON.stringify(results)],
      )
      if (!updated) return { ok: false, refusal: 'not_found' }
      await completed?.(tx, updated)
      return { ok: true, row: updated }
    })
  }

  async remove(claims: JwtClaims, id: string): Promise<boolean> {
    const rows = await this.db.asUser(claims, (tx) =>
      tx.query('delete from public.assessment_sessions where id = $1 and user_id = $2 returning id', [
        id,
        claims.sub,
      ]),
    )
    return rows.length > 0
  }
}
