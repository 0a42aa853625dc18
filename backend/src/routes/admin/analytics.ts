import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, AnalyticsQuerySchema, AnalyticsReportSchema, adminRoute } from '@/routes/admin/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminRoute,
  operationId: 'getPlatformAnalytics',
  method: 'get',
  path: '/api/v1/admin/analytics',
  summary: 'Users, assessments, AI usage and activity events over a window (admin)',
  description:
    'The window is [from, to): `to` defaults to now, `from` to 30 days before `to`, and it may span at ' +
    'most 366 days; an inverted or too long window is a 400. Every figure is counted in SQL from stored rows.',
  request: { query: AnalyticsQuerySchema },
  responses: {
    200: jsonResponse(AnalyticsReportSchema, 'The report'),
    ...errorResponses(...ADMIN_ERRORS, 'VALIDATION_ERROR', 'AUTH_UNAVAILABLE'),
  },
})

export const registerGetPlatformAnalytics = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').analytics.report(c.req.valid('query')), 200),
  )
