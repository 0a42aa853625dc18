import { createRoute, z } from '@hono/zod-openapi'
import { optionalAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { storableString } from '@/lib/http/text'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

// Tabs and newlines become spaces; every other control character is dropped.
const cleanText = (value: string) =>
  value
    .replace(/[\t\n\r\v\f]/g, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .trim()

const QuerySchema = z
  .object({
    // NUL and lone surrogates are refused like everywhere else; other control characters go.
    query: storableString(20_000)
      .transform(cleanText)
      .pipe(z.string().min(1, 'must not be empty').max(5_000, 'must be at most 5000 characters')),
    pillar_id: PillarIdSchema.optional(),
    mode: ModeSchema.optional(),
    limit: z.number().int().min(1).max(50).default(10),
    threshold: z.number().min(0).max(1).optional().openapi({
      description:
        'Minimum vector similarity; default 0.5 with OpenAI embeddings, 0.2 with the local embedder',
    }),
  })
  .strict()
  .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH)

const ResultSchema = z.object({
  id: z.uuid(),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  similarity: z.number(),
})

const route = createRoute({
  operationId: 'searchKnowledge',
  method: 'post',
  path: '/api/v1/rag/query',
  tags: ['Knowledge'],
  summary: 'Hybrid (vector + full-text) search over the PILAR knowledge base',
  middleware: guards(optionalAuth()),
  request: jsonRequest(QuerySchema),
  responses: {
    200: jsonResponse(
      z.object({
        results: z.array(ResultSchema),
        search_mode: z.enum(['hybrid', 'vector', 'lexical']),
        degraded: z.boolean(),
      }),
      '`degraded` is true when embeddings were unavailable and full-text search answered alone',
    ),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'INVALID_JSON', 'UNAUTHORIZED'),
  },
})

export const registerSearchKnowledge = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').knowledge.search(c.req.valid('json'), c.get('user')), 200),
  )
