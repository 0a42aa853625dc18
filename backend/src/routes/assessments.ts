import { createRoute, z } from '@hono/zod-openapi'
import { currentUser, requireAuth } from '@/lib/http/auth'
import { PageQuerySchema } from '@/lib/http/pagination'
import { ModeSchema, PillarIdSchema } from '@/lib/http/pilar-schemas'
import { createRouter } from '@/lib/http/router'
import { errorResponses } from '@/lib/http/schemas'

const PillarId = PillarIdSchema
const Mode = ModeSchema
const Id = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

const ResultsSchema = z
  .object({
    pillar_score: z.number().min(0).max(100),
    force_scores: z.record(z.string(), z.number().min(0).max(100)),
    answered: z.number().int(),
    total: z.number().int(),
  })
  .openapi('AssessmentResults')

const AssessmentSchema = z
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

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
})

const common = {
  tags: ['Assessments'],
  security: [{ bearer: [] }],
  middleware: [requireAuth()],
}
const authErrors = ['UNAUTHORIZED', 'AUTH_UNAVAILABLE'] as const

const create = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/assessments',
  summary: 'Start an assessment of one pillar',
  request: body(z.object({ pillar_id: PillarId, mode: Mode }).strict()),
  responses: {
    201: json(z.object({ assessment: AssessmentSchema }), 'Created'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'INVALID_JSON', ...authErrors),
  },
})

const list = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/assessments',
  summary: 'Your assessments, newest first',
  request: { query: PageQuerySchema.extend({ status: z.enum(['in_progress', 'completed']).optional() }) },
  responses: {
    200: json(z.object({ data: z.array(AssessmentSchema), next_cursor: z.string().nullable() }), 'A page'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', ...authErrors),
  },
})

const get = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/assessments/{id}',
  summary: 'One of your assessments',
  request: { params: Id },
  responses: {
    200: json(z.object({ assessment: AssessmentSchema }), 'The assessment'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'NOT_FOUND', ...authErrors),
  },
})

const questions = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/assessments/{id}/questions',
  summary: "The assessment's Likert statements (1 = strongly disagree … 5 = strongly agree)",
  request: { params: Id },
  responses: {
    200: json(
      z.object({
        questions: z.array(
          z.object({
            id: z.string(),
            force_key: z.string(),
            text: z.string(),
            scale: z.object({ min: z.literal(1), max: z.literal(5) }),
          }),
        ),
      }),
      'The questions',
    ),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'NOT_FOUND', ...authErrors),
  },
})

const answer = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/assessments/{id}/answers',
  summary: 'Answer (or re-answer) one question; atomic',
  request: {
    params: Id,
    ...body(
      z
        .object({
          question_id: z
            .string()
            .max(100)
            .regex(/^[a-z]+\.[a-z0-9_]+\.[0-9]+$/, 'must look like divsexp.psychological_safety.1')
            .openapi({ example: 'divsexp.psychological_safety.1' }),
          answer: z.number().int().min(1).max(5),
        })
        .strict(),
    ),
  },
  responses: {
    200: json(
      z.object({
        assessment_id: z.uuid(),
        question_id: z.string(),
        answered_count: z.number().int(),
        total_questions: z.number().int(),
      }),
      'Recorded',
    ),
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'NOT_FOUND',
      'CONFLICT',
      ...authErrors,
    ),
  },
})

const complete = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/assessments/{id}/complete',
  summary: 'Score and close the assessment (needs at least one answer)',
  request: { params: Id },
  responses: {
    200: json(z.object({ assessment: AssessmentSchema }), 'Completed, with results'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'NOT_FOUND', 'CONFLICT', ...authErrors),
  },
})

const remove = createRoute({
  ...common,
  method: 'delete',
  path: '/api/v1/assessments/{id}',
  summary: 'Delete one of your assessments',
  request: { params: Id },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'NOT_FOUND', ...authErrors),
  },
})

export const assessmentRoutes = createRouter()
  .openapi(create, async (c) => {
    const { pillar_id, mode } = c.req.valid('json')
    const assessment = await c.get('services').assessments.create(currentUser(c), pillar_id, mode)
    return c.json({ assessment }, 201)
  })
  .openapi(list, async (c) =>
    c.json(await c.get('services').assessments.list(currentUser(c), c.req.valid('query')), 200),
  )
  .openapi(get, async (c) => {
    const assessment = await c.get('services').assessments.get(currentUser(c), c.req.valid('param').id)
    return c.json({ assessment }, 200)
  })
  .openapi(questions, async (c) => {
    const list = await c.get('services').assessments.questions(currentUser(c), c.req.valid('param').id)
    return c.json({ questions: list }, 200)
  })
  .openapi(answer, async (c) => {
    const { question_id, answer } = c.req.valid('json')
    const result = await c
      .get('services')
      .assessments.answer(currentUser(c), c.req.valid('param').id, question_id, answer)
    return c.json(result, 200)
  })
  .openapi(complete, async (c) => {
    const assessment = await c.get('services').assessments.complete(currentUser(c), c.req.valid('param').id)
    return c.json({ assessment }, 200)
  })
  .openapi(remove, async (c) => {
    await c.get('services').assessments.remove(currentUser(c), c.req.valid('param').id)
    return c.body(null, 204)
  })
