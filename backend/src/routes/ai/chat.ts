import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { eventStream, type StreamFormat } from '@/lib/http/event-stream'
import { jsonContent, jsonRequest } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { AI_ERRORS, aiRoute, UsageSchema } from '@/routes/ai/schemas'
import { MessageSchema } from '@/routes/conversations/schemas'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const ChatBody = z
  .object({
    message: freeText({ max: 8_000 }),
    conversation_id: z.uuid().optional(),
    pillar_id: PillarIdSchema.optional(),
    mode: ModeSchema.optional(),
    stream: z.boolean().optional(),
  })
  .strict()
  .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH)

const route = createRoute({
  ...aiRoute,
  operationId: 'chat',
  method: 'post',
  path: '/api/v1/ai/chat',
  summary:
    'Chat with the coach. JSON, or a stream: `stream: true` / `Accept: text/event-stream` (SSE) or `Accept: application/x-ndjson`',
  request: jsonRequest(ChatBody),
  responses: {
    200: {
      description: 'The answer (JSON), or events meta, delta…, then done or error',
      content: {
        ...jsonContent(
          z.object({
            conversation_id: z.uuid(),
            message: MessageSchema.extend({ role: z.literal('assistant') }),
            provider: z.string(),
            model: z.string(),
            usage: UsageSchema,
          }),
        ),
        'text/event-stream': { schema: z.string() },
        'application/x-ndjson': { schema: z.string() },
      },
    },
    // NOT_FOUND: an unknown conversation_id, or another user's.
    ...errorResponses(...AI_ERRORS, 'NOT_FOUND', 'UPSTREAM_ERROR'),
  },
})

/** NDJSON when asked for by name; SSE when asked for, or by `stream: true`; else one JSON answer. */
function formatOf(c: Context, wantsStream: boolean | undefined): StreamFormat | 'json' {
  const accept = c.req.header('accept') ?? ''
  if (accept.includes('application/x-ndjson')) return 'ndjson'
  if (accept.includes('text/event-stream') || wantsStream) return 'sse'
  return 'json'
}

export const registerChat = (router: Router) =>
  router.openapi(route, async (c) => {
    const input = c.req.valid('json')
    const { chat, config, logger } = c.get('services')
    const user = c.get('user')
    const format = formatOf(c, input.stream)
    if (format === 'json') return c.json(await chat.complete(user, input, c.req.raw.signal), 200)
    return eventStream(c, format, (signal) => chat.stream(user, input, signal), {
      heartbeatMs: config.http.streamHeartbeatMs,
      idleTimeoutSeconds: config.http.idleTimeoutSeconds,
      logger,
    })
  })
