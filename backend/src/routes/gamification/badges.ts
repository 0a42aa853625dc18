import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { BadgeSchema, GAMIFICATION_ERRORS, gamificationRoute } from '@/routes/gamification/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...gamificationRoute,
  operationId: 'listBadges',
  method: 'get',
  path: '/api/v1/gamification/badges',
  summary: 'The badge catalog, with the share of users holding each',
  responses: {
    200: jsonResponse(z.object({ badges: z.array(BadgeSchema) }), 'The catalog'),
    ...errorResponses(...GAMIFICATION_ERRORS),
  },
})

export const registerListBadges = (router: Router) =>
  router.openapi(route, async (c) => c.json({ badges: await c.get('services').gamification.badges() }, 200))
