import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import { CONVERSATION_ERRORS, ConversationIdParams, conversationRoute } from '@/routes/conversations/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...conversationRoute,
  operationId: 'deleteConversation',
  method: 'delete',
  path: '/api/v1/ai/conversations/{id}',
  summary: 'Delete a conversation and its messages',
  request: { params: ConversationIdParams },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(...CONVERSATION_ERRORS, 'NOT_FOUND'),
  },
})

export const registerDeleteConversation = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').conversations.remove(c.get('user'), c.req.valid('param').id)
    return c.body(null, 204)
  })
