import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import { ASSESSMENT_ERRORS, AssessmentSchema, assessmentRoute } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'listAssessments',
  method: 'get',
  path: '/api/v1/assessments',
  summary: 'Your assessments, newest first',
  request: { query: PageQuerySchema.extend({ status: z.enum(['in_progress', 'completed']).optional() }) },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(AssessmentSchema), next_cursor: z.string().nullable() }),
      'A page',
    ),
    ...errorResponses(...ASSESSMENT_ERRORS),
  },
})

export const registerListAssessments = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').assessments.list(c.get('user'), c.req.valid('query')), 200),
  )
