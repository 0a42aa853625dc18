import { createRoute, z } from '@hono/zod-openapi'
import { optionalAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'getPillarForces',
  method: 'get',
  path: '/api/v1/rag/forces/{pillar_id}',
  tags: ['Knowledge'],
  summary: "A pillar's four forces",
  middleware: guards(optionalAuth()),
  request: {
    params: z.object({ pillar_id: PillarIdSchema.openapi({ param: { name: 'pillar_id', in: 'path' } }) }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        pillar: z.object({ id: PillarIdSchema, mode: ModeSchema, title: z.string() }),
        forces: z.array(z.object({ key: z.string(), name: z.string(), description: z.string() })),
      }),
      'The forces',
    ),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED'),
  },
})

export const registerGetPillarForces = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').knowledge.forces(c.req.valid('param').pillar_id), 200),
  )
