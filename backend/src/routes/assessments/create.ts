import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import {
  AssessmentSchema,
  authErrors,
  body,
  common,
  json,
  Mode,
  PillarId,
} from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...common,
  operationId: 'createAssessment',
  method: 'post',
  path: '/api/v1/assessments',
  summary: 'Start an assessment of one pillar',
  request: body(z.object({ pillar_id: PillarId, mode: Mode }).strict()),
  responses: {
    201: json(z.object({ assessment: AssessmentSchema }), 'Created'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'INVALID_JSON', ...authErrors),
  },
})

export const registerCreateAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    const { pillar_id, mode } = c.req.valid('json')
    const assessment = await c.get('services').assessments.create(c.get('user'), pillar_id, mode)
    return c.json({ assessment }, 201)
  })
