import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, adminRoute } from '@/routes/admin/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminRoute,
  operationId: 'cleanupSessions',
  method: 'post',
  path: '/api/v1/admin/cleanup-sessions',
  summary: 'Remove expired conversations and their messages now',
  responses: {
    200: jsonResponse(z.object({ deleted: z.number().int(), duration_ms: z.number() }), 'What was removed'),
    ...errorResponses(...ADMIN_ERRORS),
  },
})

export const registerCleanupSessions = (router: Router) =>
  router.openapi(route, async (c) => c.json(await c.get('services').conversations.cleanup(), 200))
