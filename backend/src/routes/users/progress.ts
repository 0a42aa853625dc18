import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { ProgressSchema, USER_ERRORS, userRoute } from '@/routes/users/schemas'

const route = createRoute({
  ...userRoute,
  operationId: 'getMyProgress',
  method: 'get',
  path: '/api/v1/users/me/progress',
  summary: 'Your progress per pillar and mode, from your completed assessments',
  responses: {
    200: jsonResponse(ProgressSchema, 'Per pillar and mode (history ≤ 10, newest first), and totals'),
    ...errorResponses(...USER_ERRORS),
  },
})

export const registerGetMyProgress = (router: Router) =>
  router.openapi(route, async (c) => c.json(await c.get('services').users.progress(c.get('user')), 200))
