import { createRoute, z } from '@hono/zod-openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import { AssessmentSchema, authErrors, common, json } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...common,
  operationId: 'listAssessments',
  method: 'get',
  path: '/api/v1/assessments',
  summary: 'Your assessments, newest first',
  request: { query: PageQuerySchema.extend({ status: z.enum(['in_progress', 'completed']).optional() }) },
  responses: {
    200: json(z.object({ data: z.array(AssessmentSchema), next_cursor: z.string().nullable() }), 'A page'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', ...authErrors),
  },
})

export const registerListAssessments = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').assessments.list(c.get('user'), c.req.valid('query')), 200),
  )
