import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'

export const PillarId = PillarIdSchema
export const Mode = ModeSchema
export const Id = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

export const ResultsSchema = z
  .object({
    pillar_score: z.number().min(0).max(100),
    force_scores: z.record(z.string(), z.number().min(0).max(100)),
    answered: z.number().int(),
    total: z.number().int(),
  })
  .openapi('AssessmentResults')

export const AssessmentSchema = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    pillar_id: PillarId,
    mode: Mode,
    status: z.enum(['in_progress', 'completed']),
    responses: z.record(
      z.string(),
      z.object({ answer: z.number().int().min(1).max(5), answered_at: z.string() }),
    ),
    answered_count: z.number().int(),
    total_questions: z.number().int(),
    results: ResultsSchema.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('Assessment')

/** What every assessment route shares: all of them are the signed-in user's own. */
export const assessmentRoute = bearerRoute('Assessments', guards(requireAuth()))

/** The errors every assessment route can answer (the `id` or query is validated on each). */
export const ASSESSMENT_ERRORS = errorCodes(
  'RATE_LIMITED',
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'AUTH_UNAVAILABLE',
)
