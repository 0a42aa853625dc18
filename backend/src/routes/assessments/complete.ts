import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import { AssessmentSchema, authErrors, common, Id, json } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...common,
  operationId: 'completeAssessment',
  method: 'post',
  path: '/api/v1/assessments/{id}/complete',
  summary: 'Score and close the assessment (needs at least one answer)',
  request: { params: Id },
  responses: {
    200: json(z.object({ assessment: AssessmentSchema }), 'Completed, with results'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'NOT_FOUND', 'CONFLICT', ...authErrors),
  },
})

export const registerCompleteAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    const assessment = await c.get('services').assessments.complete(c.get('user'), c.req.valid('param').id)
    return c.json({ assessment }, 200)
  })
