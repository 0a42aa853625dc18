import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import { AssessmentSchema, authErrors, common, Id, json } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...common,
  operationId: 'getAssessment',
  method: 'get',
  path: '/api/v1/assessments/{id}',
  summary: 'One of your assessments',
  request: { params: Id },
  responses: {
    200: json(z.object({ assessment: AssessmentSchema }), 'The assessment'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'NOT_FOUND', ...authErrors),
  },
})

export const registerGetAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    const assessment = await c.get('services').assessments.get(c.get('user'), c.req.valid('param').id)
    return c.json({ assessment }, 200)
  })
