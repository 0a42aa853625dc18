import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ASSESSMENT_ERRORS, AssessmentSchema, assessmentRoute, Id } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'completeAssessment',
  method: 'post',
  path: '/api/v1/assessments/{id}/complete',
  summary:
    'Score and close the assessment (needs at least one answer; only a fully answered one earns points and badges)',
  request: { params: Id },
  responses: {
    200: jsonResponse(z.object({ assessment: AssessmentSchema }), 'Completed, with results'),
    ...errorResponses(...ASSESSMENT_ERRORS, 'NOT_FOUND', 'CONFLICT'),
  },
})

export const registerCompleteAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    const assessment = await c.get('services').assessments.complete(c.get('user'), c.req.valid('param').id)
    return c.json({ assessment }, 200)
  })
