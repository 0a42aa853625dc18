import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'cleanupSessions',
  method: 'post',
  path: '/api/v1/admin/cleanup-sessions',
  tags: ['Admin'],
  summary: 'Remove expired conversations and their messages now',
  security: [{ bearer: [] }],
  middleware: guards(requireAdmin()),
  responses: {
    200: {
      description: 'What was removed',
      content: {
        'application/json': { schema: z.object({ deleted: z.number().int(), duration_ms: z.number() }) },
      },
    },
    ...errorResponses('RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN'),
  },
})

export const registerCleanupSessions = (router: Router) =>
  router.openapi(route, async (c) => c.json(await c.get('services').conversations.cleanup(), 200))
