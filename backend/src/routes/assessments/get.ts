import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ASSESSMENT_ERRORS, AssessmentSchema, assessmentRoute, Id } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'getAssessment',
  method: 'get',
  path: '/api/v1/assessments/{id}',
  summary: 'One of your assessments',
  request: { params: Id },
  responses: {
    200: jsonResponse(z.object({ assessment: AssessmentSchema }), 'The assessment'),
    ...errorResponses(...ASSESSMENT_ERRORS, 'NOT_FOUND'),
  },
})

export const registerGetAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    const assessment = await c.get('services').assessments.get(c.get('user'), c.req.valid('param').id)
    return c.json({ assessment }, 200)
  })
