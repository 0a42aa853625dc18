import { createRoute, z } from '@hono/zod-openapi'
import { optionalAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'listPillarConnections',
  method: 'get',
  path: '/api/v1/rag/connections',
  tags: ['Knowledge'],
  summary: 'Connections between pillars, optionally for one mode or touching one pillar',
  middleware: guards(optionalAuth()),
  request: {
    query: z
      .object({ mode: ModeSchema.optional(), pillar_id: PillarIdSchema.optional() })
      .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH),
  },
  responses: {
    200: jsonResponse(
      z.object({
        connections: z.array(
          z.object({
            id: z.string(),
            mode: ModeSchema,
            name: z.string().nullable(),
            type: z.enum(['reinforce', 'inverse', 'discretionary']),
            from_pillar: PillarIdSchema,
            to_pillar: PillarIdSchema,
            description: z.string(),
          }),
        ),
      }),
      'The connections',
    ),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED'),
  },
})

export const registerListPillarConnections = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').knowledge.connections(c.req.valid('query')), 200),
  )
