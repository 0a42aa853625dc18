import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { GAMIFICATION_ERRORS, gamificationRoute, MyGamificationSchema } from '@/routes/gamification/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...gamificationRoute,
  operationId: 'getMyGamification',
  method: 'get',
  path: '/api/v1/gamification/me',
  summary: 'Your points, level, streak, badges and newest awards (all awarded by the server)',
  responses: {
    200: jsonResponse(MyGamificationSchema, 'Your progress'),
    ...errorResponses(...GAMIFICATION_ERRORS),
  },
})

export const registerGetMyGamification = (router: Router) =>
  router.openapi(route, async (c) => c.json(await c.get('services').gamification.me(c.get('user')), 200))
