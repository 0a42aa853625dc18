import { z } from '@hono/zod-openapi'

/** A conversation in the `{id}` path parameter. */
export const ConversationIdParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

/** One stored message of a conversation (chat answers are these too). */
export const MessageSchema = z.object({
  id: z.uuid(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  created_at: z.string(),
})
