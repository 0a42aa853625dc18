import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { stream, streamSSE } from 'hono/streaming'
import { ApiError } from '@/lib/errors/api-error'
import { knownError } from '@/lib/errors/handler'
import { currentUser, requireAuth } from '@/lib/http/auth'
import type { AppEnv } from '@/lib/http/context'
import { PageQuerySchema } from '@/lib/http/pagination'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/lib/http/pilar-schemas'
import { rateLimit } from '@/lib/http/rate-limit'
import { createRouter } from '@/lib/http/router'
import { errorResponses } from '@/lib/http/schemas'
import type { StreamChunk, Usage } from '@/lib/llm/types'
import { DIFFICULTIES } from '@/services/ai/quiz'

// Per user on top of the per-address limit: these routes spend LLM tokens.
const common = {
  tags: ['AI'],
  security: [{ bearer: [] }],
  middleware: [requireAuth(), rateLimit('ai', 'user')],
}
const Id = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })
const UsageSchema = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() })
const MessageSchema = z.object({
  id: z.uuid(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  created_at: z.string(),
})

const ChatBody = z
  .object({
    message: z.string().trim().min(1).max(8_000),
    conversation_id: z.uuid().optional(),
    pillar_id: PillarIdSchema.optional(),
    mode: ModeSchema.optional(),
    stream: z.boolean().optional(),
  })
  .strict()
  .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH)

const chat = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/ai/chat',
  summary:
    'Chat with the coach. JSON, or a stream: `stream: true` / `Accept: text/event-stream` (SSE) or `Accept: application/x-ndjson`',
  request: { body: { required: true, content: { 'application/json': { schema: ChatBody } } } },
  responses: {
    200: {
      description: 'The answer (JSON), or events meta, delta…, then done or error',
      content: {
        'application/json': {
          schema: z.object({
            conversation_id: z.uuid(),
            message: MessageSchema.extend({ role: z.literal('assistant') }),
            provider: z.string(),
            model: z.string(),
            usage: UsageSchema,
          }),
        },
        'text/event-stream': { schema: z.string() },
        'application/x-ndjson': { schema: z.string() },
      },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'UPSTREAM_ERROR',
      'LLM_UNAVAILABLE',
    ),
  },
})

const listConversations = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/ai/conversations',
  summary: 'Your live conversations, newest first',
  request: { query: PageQuerySchema },
  responses: {
    200: {
      description: 'A page',
      content: {
        'application/json': {
          schema: z.object({
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
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED'),
  },
})

const listMessages = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/ai/conversations/{id}/messages',
  summary: "A conversation's messages, oldest first",
  request: { params: Id, query: PageQuerySchema },
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

const deleteConversation = createRoute({
  ...common,
  method: 'delete',
  path: '/api/v1/ai/conversations/{id}',
  summary: 'Delete a conversation and its messages',
  request: { params: Id },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
  },
})

const SourcesSchema = z.array(z.object({ id: z.string(), title: z.string() }))

const coaching = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/ai/coaching',
  summary: 'Coaching for one of your completed assessments, grounded in its results and the knowledge base',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ assessment_id: z.uuid(), message: z.string().trim().min(1).max(4_000).optional() })
            .strict(),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Validated coaching',
      content: {
        'application/json': {
          schema: z.object({
            coaching: z.object({
              summary: z.string(),
              strengths: z.array(z.string()),
              growth_areas: z.array(z.string()),
              actions: z.array(z.string()),
            }),
            sources: SourcesSchema,
            provider: z.string(),
            model: z.string(),
          }),
        },
      },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'CONFLICT',
      'UPSTREAM_ERROR',
      'LLM_UNAVAILABLE',
    ),
  },
})

const guidance = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/ai/guidance',
  summary: 'Practical guidance on one pillar, grounded in the knowledge base',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              pillar_id: PillarIdSchema,
              mode: ModeSchema,
              context: z.string().trim().min(1).max(4_000).optional(),
            })
            .strict()
            .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Guidance',
      content: {
        'application/json': {
          schema: z.object({
            guidance: z.string(),
            sources: SourcesSchema,
            provider: z.string(),
            model: z.string(),
          }),
        },
      },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'UPSTREAM_ERROR',
      'LLM_UNAVAILABLE',
    ),
  },
})

const quiz = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/ai/quiz-questions',
  summary: 'Multiple-choice questions about a pillar, schema-validated even when a model wrote them',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              pillar_id: PillarIdSchema,
              mode: ModeSchema,
              count: z.number().int().min(1).max(20).default(5),
              difficulty: z.enum(DIFFICULTIES).optional(),
            })
            .strict()
            .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'At most `count` questions (the local provider has 8 per pillar)',
      content: {
        'application/json': {
          schema: z.object({
            questions: z.array(
              z.object({
                id: z.uuid(),
                question: z.string(),
                options: z.array(z.string()),
                correct_index: z.number().int(),
                force_key: z.string(),
                difficulty: z.enum(DIFFICULTIES),
              }),
            ),
          }),
        },
      },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'UPSTREAM_ERROR',
      'LLM_UNAVAILABLE',
    ),
  },
})

const analyze = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/ai/analyze-content',
  summary: 'How a text aligns with each pillar (embedding similarity with pillar profiles)',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              content: z.string().trim().min(1).max(20_000),
              content_type: z.string().trim().min(1).max(100).optional(),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Alignment, best first',
      content: {
        'application/json': {
          schema: z.object({
            alignment: z.array(
              z.object({
                pillar_id: PillarIdSchema,
                mode: ModeSchema,
                score: z.number().min(0).max(1),
                rationale: z.string(),
              }),
            ),
            primary_pillar: PillarIdSchema,
          }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'INVALID_JSON', 'UNAUTHORIZED', 'LLM_UNAVAILABLE'),
  },
})

type Format = 'json' | 'sse' | 'ndjson'

function formatOf(c: Context<AppEnv>, wantsStream: boolean | undefined): Format {
  const accept = c.req.header('accept') ?? ''
  if (accept.includes('application/x-ndjson')) return 'ndjson'
  if (accept.includes('text/event-stream') || wantsStream) return 'sse'
  return 'json'
}

/**
 * Streams an answer. Before the first token every failure is a normal JSON error (nothing was
 * sent yet); after it, a failure ends the stream with one `error` event. The client leaving
 * aborts the upstream request, and nothing is stored for an unfinished answer.
 */
async function streamAnswer(
  c: Context<AppEnv>,
  format: Exclude<Format, 'json'>,
  input: z.infer<typeof ChatBody>,
) {
  const client = new AbortController()
  const opened = await c
    .get('services')
    .chat.openStream(currentUser(c), input, AbortSignal.any([client.signal, c.req.raw.signal]))
  // Long answers must not be cut by Bun's idle timeout; heartbeats keep proxies awake too.
  c.env?.server?.timeout(c.req.raw, 0)
  const { routed } = opened
  const encode = (type: string, data: unknown) =>
    format === 'sse'
      ? { event: type, data: JSON.stringify(data) }
      : `${JSON.stringify({ type, ...(data as object) })}\n`

  const run = async (
    write: (type: string, data: unknown) => Promise<void>,
    heartbeat: () => Promise<void>,
    onAbort: (fn: () => void) => void,
  ) => {
    onAbort(() => client.abort())
    // A comment line every so often keeps proxies from closing a quiet stream.
    const timer = setInterval(
      () => void heartbeat().catch(() => {}),
      c.get('services').config.STREAM_HEARTBEAT_MS,
    )
    let text = ''
    let usage: Usage = { input_tokens: 0, output_tokens: 0 }
    let finishReason = 'stop'
    try {
      await write('meta', {
        conversation_id: opened.conversationId,
        provider: routed.provider,
        model: routed.model,
      })
      for await (const chunk of routed.chunks as AsyncIterable<StreamChunk>) {
        if (chunk.type === 'delta') {
          text += chunk.text
          await write('delta', { text: chunk.text })
        } else {
          usage = chunk.usage
          finishReason = chunk.finishReason
        }
      }
      const saved = await opened.save(text, usage)
      await write('done', { message_id: saved.id, usage, finish_reason: finishReason })
    } catch (error) {
      if (client.signal.aborted) return
      const mapped = knownError(error) ?? new ApiError('INTERNAL')
      if (mapped.code === 'INTERNAL') c.get('services').logger.error({ err: error }, 'stream failed')
      await write('error', { code: mapped.code, message: mapped.message }).catch(() => {})
    } finally {
      clearInterval(timer)
    }
  }

  if (format === 'sse') {
    return streamSSE(c, (s) =>
      run(
        (type, data) => s.writeSSE(encode(type, data) as { event: string; data: string }),
        async () => {
          await s.write(': ping\n\n')
        },
        (fn) => s.onAbort(fn),
      ),
    )
  }
  c.header('Content-Type', 'application/x-ndjson; charset=utf-8')
  c.header('Cache-Control', 'no-cache')
  return stream(c, (s) =>
    run(
      (type, data) => s.write(encode(type, data) as string).then(() => undefined),
      // NDJSON has no comment syntax: a blank line would break strict parsers. No heartbeat;
      // the idle timeout is already lifted for this request.
      async () => {},
      (fn) => s.onAbort(fn),
    ),
  )
}

export const aiRoutes = createRouter()
  .openapi(chat, async (c) => {
    const input = c.req.valid('json')
    const format = formatOf(c, input.stream)
    if (format !== 'json') return streamAnswer(c, format, input) as never
    return c.json(await c.get('services').chat.complete(currentUser(c), input, c.req.raw.signal), 200)
  })
  .openapi(coaching, async (c) => {
    const { assessment_id, message } = c.req.valid('json')
    return c.json(
      await c.get('services').coaching.coach(currentUser(c), assessment_id, message, c.req.raw.signal),
      200,
    )
  })
  .openapi(guidance, async (c) =>
    c.json(
      await c.get('services').guidance.guide(c.req.valid('json'), c.req.raw.signal, currentUser(c).idHash),
      200,
    ),
  )
  .openapi(quiz, async (c) =>
    c.json(
      {
        questions: await c
          .get('services')
          .quiz.questions(c.req.valid('json'), c.req.raw.signal, currentUser(c).idHash),
      },
      200,
    ),
  )
  .openapi(analyze, async (c) =>
    c.json(await c.get('services').analyze.analyze(c.req.valid('json').content), 200),
  )
  .openapi(listConversations, async (c) =>
    c.json(await c.get('services').conversations.list(currentUser(c), c.req.valid('query')), 200),
  )
  .openapi(listMessages, async (c) =>
    c.json(
      await c
        .get('services')
        .conversations.messages(currentUser(c), c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  )
  .openapi(deleteConversation, async (c) => {
    await c.get('services').conversations.remove(currentUser(c), c.req.valid('param').id)
    return c.body(null, 204)
  })
