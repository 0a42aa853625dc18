import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'analyzeContent',
  method: 'post',
  path: '/api/v1/ai/analyze-content',
  tags: ['AI'],
  summary: 'How a text aligns with each pillar (embedding similarity with pillar profiles)',
  security: [{ bearer: [] }],
  // Per user on top of the per-address limit: embeddings cost, like LLM tokens.
  middleware: guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })),
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

export const registerAnalyzeContent = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').analyze.analyze(c.req.valid('json').content), 200),
  )
