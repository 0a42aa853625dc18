import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { createRouter } from '@/lib/http/router'
import { errorResponses } from '@/lib/http/schemas'

const cleanup = createRoute({
  method: 'post',
  path: '/api/v1/admin/cleanup-sessions',
  tags: ['Admin'],
  summary: 'Remove expired conversations and their messages now',
  security: [{ bearer: [] }],
  middleware: [requireAdmin()],
  responses: {
    200: {
      description: 'What was removed',
      content: {
        'application/json': { schema: z.object({ deleted: z.number().int(), duration_ms: z.number() }) },
      },
    },
    ...errorResponses('UNAUTHORIZED', 'FORBIDDEN'),
  },
})

export const adminRoutes = createRouter().openapi(cleanup, async (c) =>
  c.json(await c.get('services').conversations.cleanup(), 200),
)
