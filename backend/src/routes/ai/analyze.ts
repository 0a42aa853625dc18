import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { AI_ERRORS, aiRoute } from '@/routes/ai/schemas'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...aiRoute,
  operationId: 'analyzeContent',
  method: 'post',
  path: '/api/v1/ai/analyze-content',
  summary: 'How a text aligns with each pillar (embedding similarity with pillar profiles)',
  request: jsonRequest(
    z
      .object({
        content: freeText({ max: 20_000 }),
        content_type: freeText({ max: 100 }).optional(),
      })
      .strict(),
  ),
  responses: {
    200: jsonResponse(
      z.object({
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
      'Alignment, best first',
    ),
    ...errorResponses(...AI_ERRORS),
  },
})

export const registerAnalyzeContent = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').analyze.analyze(c.req.valid('json').content), 200),
  )
