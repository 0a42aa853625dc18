import { createRoute, z } from '@hono/zod-openapi'
import { optionalAuth, requireAdmin } from '@/lib/http/auth'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/lib/http/pilar-schemas'
import { rateLimit } from '@/lib/http/rate-limit'
import { createRouter } from '@/lib/http/router'
import { errorResponses } from '@/lib/http/schemas'

const PillarId = PillarIdSchema
const Mode = ModeSchema

// Tabs and newlines become spaces; every other control character is dropped.
const cleanText = (value: string) =>
  value
    .replace(/[\t\n\r\v\f]/g, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .trim()

const QuerySchema = z
  .object({
    query: z
      .string()
      .max(20_000)
      .transform(cleanText)
      .pipe(z.string().min(1, 'must not be empty').max(5_000, 'must be at most 5000 characters')),
    pillar_id: PillarId.optional(),
    mode: Mode.optional(),
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

const query = createRoute({
  method: 'post',
  path: '/api/v1/rag/query',
  tags: ['Knowledge'],
  summary: 'Hybrid (vector + full-text) search over the PILAR knowledge base',
  middleware: [optionalAuth()] as const,
  request: { body: { required: true, content: { 'application/json': { schema: QuerySchema } } } },
  responses: {
    200: {
      description: '`degraded` is true when embeddings were unavailable and full-text search answered alone',
      content: {
        'application/json': {
          schema: z.object({
            results: z.array(ResultSchema),
            search_mode: z.enum(['hybrid', 'vector', 'lexical']),
            degraded: z.boolean(),
          }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'INVALID_JSON', 'UNAUTHORIZED'),
  },
})

const forces = createRoute({
  method: 'get',
  path: '/api/v1/rag/forces/{pillar_id}',
  tags: ['Knowledge'],
  summary: "A pillar's four forces",
  middleware: [optionalAuth()] as const,
  request: {
    params: z.object({ pillar_id: PillarId.openapi({ param: { name: 'pillar_id', in: 'path' } }) }),
  },
  responses: {
    200: {
      description: 'The forces',
      content: {
        'application/json': {
          schema: z.object({
            pillar: z.object({ id: PillarId, mode: Mode, title: z.string() }),
            forces: z.array(z.object({ key: z.string(), name: z.string(), description: z.string() })),
          }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED'),
  },
})

const connections = createRoute({
  method: 'get',
  path: '/api/v1/rag/connections',
  tags: ['Knowledge'],
  summary: 'Connections between pillars, optionally for one mode or touching one pillar',
  middleware: [optionalAuth()] as const,
  request: {
    query: z
      .object({ mode: Mode.optional(), pillar_id: PillarId.optional() })
      .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH),
  },
  responses: {
    200: {
      description: 'The connections',
      content: {
        'application/json': {
          schema: z.object({
            connections: z.array(
              z.object({
                id: z.string(),
                mode: Mode,
                name: z.string().nullable(),
                type: z.enum(['reinforce', 'inverse', 'discretionary']),
                from_pillar: PillarId,
                to_pillar: PillarId,
                description: z.string(),
              }),
            ),
          }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED'),
  },
})

// Postgres text cannot hold NUL: drop it from stored text instead of failing in the database.
const withoutNul = (value: string) => value.replaceAll('\u0000', '')

const IngestSchema = z
  .object({
    documents: z
      .array(
        z
          .object({
            content: z.string().max(200_000).transform(withoutNul).pipe(z.string().min(1)),
            metadata: z
              .object({
                title: z.string().transform(withoutNul).pipe(z.string().trim().min(1).max(300)).optional(),
                source: z.string().transform(withoutNul).pipe(z.string().trim().min(1).max(500)).optional(),
                pillar_id: PillarId.optional(),
                mode: Mode.optional(),
              })
              .strict()
              .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH)
              .default({}),
          })
          .strict(),
      )
      .min(1)
      .max(100),
  })
  .strict()

const ingest = createRoute({
  method: 'post',
  path: '/api/v1/rag/ingest',
  tags: ['Knowledge'],
  summary: 'Add documents (chunked, embedded; idempotent by content hash). Admin.',
  security: [{ bearer: [] }],
  middleware: [requireAdmin(), rateLimit('ingest', 'user')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: IngestSchema } } } },
  responses: {
    200: {
      description: 'What was stored',
      content: {
        'application/json': {
          schema: z.object({
            documents: z.number().int(),
            chunks: z.number().int(),
            skipped_duplicates: z.number().int(),
            embedding_model: z.string().nullable(),
          }),
        },
      },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'PAYLOAD_TOO_LARGE',
    ),
  },
})

export const ragRoutes = createRouter()
  .openapi(query, async (c) => c.json(await c.get('services').knowledge.search(c.req.valid('json')), 200))
  .openapi(forces, async (c) =>
    c.json(await c.get('services').knowledge.forces(c.req.valid('param').pillar_id), 200),
  )
  .openapi(connections, async (c) =>
    c.json(await c.get('services').knowledge.connections(c.req.valid('query')), 200),
  )
  .openapi(ingest, async (c) =>
    c.json(await c.get('services').knowledge.ingest(c.req.valid('json').documents), 200),
  )
