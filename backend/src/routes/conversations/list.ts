import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import { CONVERSATION_ERRORS, conversationRoute } from '@/routes/conversations/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...conversationRoute,
  operationId: 'listConversations',
  method: 'get',
  path: '/api/v1/ai/conversations',
  summary: 'Your live conversations, newest first',
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(
      z.object({
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
      'A page',
    ),
    ...errorResponses(...CONVERSATION_ERRORS),
  },
})

export const registerListConversations = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').conversations.list(c.get('user'), c.req.valid('query')), 200),
  )
