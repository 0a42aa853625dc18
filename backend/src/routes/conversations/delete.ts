import { createRoute } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import { ConversationIdParams } from '@/routes/conversations/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'deleteConversation',
  method: 'delete',
  path: '/api/v1/ai/conversations/{id}',
  tags: ['AI'],
  summary: 'Delete a conversation and its messages',
  security: [{ bearer: [] }],
  // The same per-user `ai` limit as the chat that makes them.
  middleware: guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })),
  request: { params: ConversationIdParams },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
  },
})

export const registerDeleteConversation = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').conversations.remove(c.get('user'), c.req.valid('param').id)
    return c.body(null, 204)
  })
