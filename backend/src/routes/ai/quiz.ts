import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { AI_ERRORS, aiRoute } from '@/routes/ai/schemas'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'
import { DIFFICULTIES } from '@/services/ai/quiz'

const route = createRoute({
  ...aiRoute,
  operationId: 'createQuizQuestions',
  method: 'post',
  path: '/api/v1/ai/quiz-questions',
  summary: 'Multiple-choice questions about a pillar, schema-validated even when a model wrote them',
  request: jsonRequest(
    z
      .object({
        pillar_id: PillarIdSchema,
        mode: ModeSchema,
        count: z.number().int().min(1).max(20).default(5),
        difficulty: z.enum(DIFFICULTIES).optional(),
      })
      .strict()
      .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH),
  ),
  responses: {
    200: jsonResponse(
      z.object({
        questions: z.array(
          z.object({
            id: z.uuid(),
            question: z.string(),
            options: z.array(z.string()),
            correct_index: z.number().int(),
            force_key: z.string(),
            difficulty: z.enum(DIFFICULTIES),
          }),
        ),
      }),
      'At most `count` questions (the local provider has 8 per pillar)',
    ),
    ...errorResponses(...AI_ERRORS, 'UPSTREAM_ERROR'),
  },
})

export const registerCreateQuizQuestions = (router: Router) =>
  router.openapi(route, async (c) => {
    const quiz = c.get('services').quiz
    const questions = await quiz.questions(c.get('user'), c.req.valid('json'), c.req.raw.signal)
    return c.json({ questions }, 200)
  })
