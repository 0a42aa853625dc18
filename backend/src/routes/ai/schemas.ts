import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorCodes } from '@/lib/http/schemas'

/**
 * What every AI route shares (spread into `createRoute`). The per-user `ai` quota comes on top
 * of the per-user `api` one: answers spend LLM tokens, analysis spends embeddings.
 */
export const aiRoute = bearerRoute('AI', guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })))

/** The errors every AI route can answer: a JSON body, a signed-in user, and a model behind it. */
export const AI_ERRORS = errorCodes(
  'RATE_LIMITED',
  'VALIDATION_ERROR',
  'INVALID_JSON',
  'UNAUTHORIZED',
  'LLM_UNAVAILABLE',
)

export const UsageSchema = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() })

/** The knowledge-base documents an answer was grounded in. */
export const SourcesSchema = z.array(z.object({ id: z.string(), title: z.string() }))
