import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ASSESSMENT_ERRORS, assessmentRoute, Id } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'submitAnswer',
  method: 'post',
  path: '/api/v1/assessments/{id}/answers',
  summary: 'Answer (or re-answer) one question; atomic',
  request: {
    params: Id,
    ...jsonRequest(
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
    200: jsonResponse(
      z.object({
        assessment_id: z.uuid(),
        question_id: z.string(),
        answered_count: z.number().int(),
        total_questions: z.number().int(),
      }),
      'Recorded',
    ),
    ...errorResponses(...ASSESSMENT_ERRORS, 'INVALID_JSON', 'NOT_FOUND', 'CONFLICT'),
  },
})

export const registerSubmitAnswer = (router: Router) =>
  router.openapi(route, async (c) => {
    const { question_id, answer } = c.req.valid('json')
    const result = await c
      .get('services')
      .assessments.answer(c.get('user'), c.req.valid('param').id, question_id, answer)
    return c.json(result, 200)
  })
