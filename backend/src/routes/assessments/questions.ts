import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ASSESSMENT_ERRORS, assessmentRoute, Id } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'getAssessmentQuestions',
  method: 'get',
  path: '/api/v1/assessments/{id}/questions',
  summary: "The assessment's Likert statements (1 = strongly disagree … 5 = strongly agree)",
  request: { params: Id },
  responses: {
    200: jsonResponse(
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
    ...errorResponses(...ASSESSMENT_ERRORS, 'NOT_FOUND'),
  },
})

export const registerGetAssessmentQuestions = (router: Router) =>
  router.openapi(route, async (c) => {
    const list = await c.get('services').assessments.questions(c.get('user'), c.req.valid('param').id)
    return c.json({ questions: list }, 200)
  })
