import { z } from '@hono/zod-openapi'
import { errorCodes } from '@/lib/http/schemas'
import { aiRoute } from '@/routes/ai/schemas'

/** Conversations are the chat's: the same tag, auth and per-user `ai` limit as the chat that makes them. */
export const conversationRoute = aiRoute

/** The errors every conversation route can answer (none takes a body). */
export const CONVERSATION_ERRORS = errorCodes('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED')

/** A conversation in the `{id}` path parameter. */
export const ConversationIdParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

/** One stored message of a conversation (chat answers are these too). */
export const MessageSchema = z.object({
  id: z.uuid(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  created_at: z.string(),
})
