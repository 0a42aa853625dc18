import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import { SourcesSchema } from '@/routes/ai/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'getCoaching',
  method: 'post',
  path: '/api/v1/ai/coaching',
  tags: ['AI'],
  summary: 'Coaching for one of your completed assessments, grounded in its results and the knowledge base',
  security: [{ bearer: [] }],
  // Per user on top of the per-address limit: answers spend LLM tokens.
  middleware: guards(requireAuth(), rateLimit({ policy: 'ai', key: 'user' })),
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

export const registerGetCoaching = (router: Router) =>
  router.openapi(route, async (c) => {
    const { assessment_id, message } = c.req.valid('json')
    const coaching = c.get('services').coaching
    return c.json(await coaching.coach(c.get('user'), assessment_id, message, c.req.raw.signal), 200)
  })
