import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'

/**
 * Conversations are the chat's (the same tag), but reading or deleting history costs no model
 * call: only the user's `api` limit applies (in requireAuth), never the `ai` quota.
 */
export const conversationRoute = bearerRoute('AI', guards(requireAuth()))

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
