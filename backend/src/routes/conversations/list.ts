import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { PageQuerySchema } from '@/lib/http/pagination'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'listConversations',
  method: 'get',
  path: '/api/v1/ai/conversations',
  tags: ['AI'],
  summary: 'Your live conversations, newest first',
  security: [{ bearer: [] }],
  // The same per-user `ai` limit as the chat that makes them.
  middleware: guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })),
  request: { query: PageQuerySchema },
  responses: {
    200: {
      description: 'A page',
      content: {
        'application/json': {
          schema: z.object({
            data: z.array(
              z.object({
                id: z.uuid(),
                title: z.string(),
                created_at: z.string(),
                updated_at: z.string(),
                expires_at: z.string(),
              }),
            ),
            next_cursor: z.string().nullable(),
          }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED'),
  },
})

export const registerListConversations = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').conversations.list(c.get('user'), c.req.valid('query')), 200),
  )
