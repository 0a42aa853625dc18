import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { AI_ERRORS, aiRoute, SourcesSchema } from '@/routes/ai/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...aiRoute,
  operationId: 'getCoaching',
  method: 'post',
  path: '/api/v1/ai/coaching',
  summary: 'Coaching for one of your completed assessments, grounded in its results and the knowledge base',
  request: jsonRequest(
    z.object({ assessment_id: z.uuid(), message: freeText({ max: 4_000 }).optional() }).strict(),
  ),
  responses: {
    200: jsonResponse(
      z.object({
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
      'Validated coaching',
    ),
    // NOT_FOUND: not your assessment; CONFLICT: not completed yet.
    ...errorResponses(...AI_ERRORS, 'NOT_FOUND', 'CONFLICT', 'UPSTREAM_ERROR'),
  },
})

export const registerGetCoaching = (router: Router) =>
  router.openapi(route, async (c) => {
    const coaching = c.get('services').coaching
    return c.json(await coaching.coach(c.get('user'), c.req.valid('json'), c.req.raw.signal), 200)
  })
