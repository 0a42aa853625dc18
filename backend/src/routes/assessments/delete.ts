import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ASSESSMENT_ERRORS, assessmentRoute, Id } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'deleteAssessment',
  method: 'delete',
  path: '/api/v1/assessments/{id}',
  summary: 'Delete one of your assessments',
  request: { params: Id },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(...ASSESSMENT_ERRORS, 'NOT_FOUND'),
  },
})

export const registerDeleteAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').assessments.remove(c.get('user'), c.req.valid('param').id)
    return c.body(null, 204)
  })
