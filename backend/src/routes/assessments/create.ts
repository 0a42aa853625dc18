import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import {
  ASSESSMENT_ERRORS,
  AssessmentSchema,
  assessmentRoute,
  Mode,
  PillarId,
} from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...assessmentRoute,
  operationId: 'createAssessment',
  method: 'post',
  path: '/api/v1/assessments',
  summary: 'Start an assessment of one pillar',
  request: jsonRequest(z.object({ pillar_id: PillarId, mode: Mode }).strict()),
  responses: {
    201: jsonResponse(z.object({ assessment: AssessmentSchema }), 'Created'),
    ...errorResponses(...ASSESSMENT_ERRORS, 'INVALID_JSON'),
  },
})

export const registerCreateAssessment = (router: Router) =>
  router.openapi(route, async (c) => {
    const { pillar_id, mode } = c.req.valid('json')
    const assessment = await c.get('services').assessments.create(c.get('user'), pillar_id, mode)
    return c.json({ assessment }, 201)
  })
