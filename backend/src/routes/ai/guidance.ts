import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import { SourcesSchema } from '@/routes/ai/schemas'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'getGuidance',
  method: 'post',
  path: '/api/v1/ai/guidance',
  tags: ['AI'],
  summary: 'Practical guidance on one pillar, grounded in the knowledge base',
  security: [{ bearer: [] }],
  // Per user on top of the per-address limit: answers spend LLM tokens.
  middleware: guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })),
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

export const registerGetGuidance = (router: Router) =>
  router.openapi(route, async (c) => {
    const guidance = c.get('services').guidance
    return c.json(await guidance.guide(c.req.valid('json'), c.req.raw.signal, c.get('user').idHash), 200)
  })
