import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import {
  CONVERSATION_ERRORS,
  ConversationIdParams,
  conversationRoute,
  MessageSchema,
} from '@/routes/conversations/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...conversationRoute,
  operationId: 'listConversationMessages',
  method: 'get',
  path: '/api/v1/ai/conversations/{id}/messages',
  summary: "A conversation's messages, oldest first",
  request: { params: ConversationIdParams, query: PageQuerySchema },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(MessageSchema), next_cursor: z.string().nullable() }),
      'A page',
    ),
    ...errorResponses(...CONVERSATION_ERRORS, 'NOT_FOUND'),
  },
})

export const registerListConversationMessages = (router: Router) =>
  router.openapi(route, async (c) => {
    const conversations = c.get('services').conversations
    const page = c.req.valid('query')
    return c.json(await conversations.messages(c.get('user'), c.req.valid('param').id, page), 200)
  })
