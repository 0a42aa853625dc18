import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { ADMIN_ERRORS } from '@/routes/admin/schemas'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const IngestSchema = z
  .object({
    documents: z
      .array(
        z
          .object({
            content: freeText({ max: 200_000, trim: false }),
            metadata: z
              .object({
                title: freeText({ max: 300 }).optional(),
                source: freeText({ max: 500 }).optional(),
                pillar_id: PillarIdSchema.optional(),
                mode: ModeSchema.optional(),
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

const route = createRoute({
  operationId: 'ingestDocuments',
  method: 'post',
  path: '/api/v1/rag/ingest',
  tags: ['Knowledge'],
  summary: 'Add documents (chunked, embedded; idempotent by content hash). Admin.',
  security: [{ bearer: [] }],
  middleware: guards(requireAdmin(), rateLimit({ policy: 'ingest', key: 'user' })),
  request: jsonRequest(IngestSchema),
  responses: {
    200: jsonResponse(
      z.object({
        documents: z.number().int(),
        chunks: z.number().int(),
        skipped_duplicates: z.number().int(),
        embedding_model: z.string().nullable(),
      }),
      'What was stored',
    ),
    ...errorResponses(...ADMIN_ERRORS, 'VALIDATION_ERROR', 'INVALID_JSON', 'PAYLOAD_TOO_LARGE'),
  },
})

export const registerIngestDocuments = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').knowledge.ingest(c.req.valid('json').documents), 200),
  )
