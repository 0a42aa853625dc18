import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { AI_ERRORS, aiRoute, SourcesSchema } from '@/routes/ai/schemas'
import { ModeSchema, PILLAR_MODE_MISMATCH, PillarIdSchema, pillarMatchesMode } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...aiRoute,
  operationId: 'getGuidance',
  method: 'post',
  path: '/api/v1/ai/guidance',
  summary: 'Practical guidance on one pillar, grounded in the knowledge base',
  request: jsonRequest(
    z
      .object({
        pillar_id: PillarIdSchema,
        mode: ModeSchema,
        context: freeText({ max: 4_000 }).optional(),
      })
      .strict()
      .refine(pillarMatchesMode, PILLAR_MODE_MISMATCH),
  ),
  responses: {
    200: jsonResponse(
      z.object({ guidance: z.string(), sources: SourcesSchema, provider: z.string(), model: z.string() }),
      'Guidance',
    ),
    ...errorResponses(...AI_ERRORS, 'UPSTREAM_ERROR'),
  },
})

export const registerGetGuidance = (router: Router) =>
  router.openapi(route, async (c) => {
    const guidance = c.get('services').guidance
    return c.json(await guidance.guide(c.get('user'), c.req.valid('json'), c.req.raw.signal), 200)
  })
