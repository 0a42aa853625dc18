import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { PageQuerySchema } from '@/lib/http/pagination'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import { ConversationIdParams, MessageSchema } from '@/routes/conversations/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'listConversationMessages',
  method: 'get',
  path: '/api/v1/ai/conversations/{id}/messages',
  tags: ['AI'],
  summary: "A conversation's messages, oldest first",
  security: [{ bearer: [] }],
  // The same per-user `ai` limit as the chat that makes them.
  middleware: guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })),
  request: { params: ConversationIdParams, query: PageQuerySchema },
  responses: {
    200: {
      description: 'A page',
      content: {
        'application/json': {
          schema: z.object({ data: z.array(MessageSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
  },
})

export const registerListConversationMessages = (router: Router) =>
  router.openapi(route, async (c) => {
    const conversations = c.get('services').conversations
    const page = c.req.valid('query')
    return c.json(await conversations.messages(c.get('user'), c.req.valid('param').id, page), 200)
  })
