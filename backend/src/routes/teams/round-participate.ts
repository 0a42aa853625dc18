import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { AssessmentSchema } from '@/routes/assessments/schemas'
import type { Router } from '@/routes/router'
import { RoundParams, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'participateInTeamRound',
  method: 'post',
  path: '/api/v1/teams/{id}/rounds/{round_id}/participate',
  summary: 'Your own assessment for this round: created once, the same one on every call',
  description: 'Answer and complete it through /api/v1/assessments. Teammates never see it.',
  request: { params: RoundParams },
  responses: {
    200: jsonResponse(z.object({ assessment: AssessmentSchema }), 'Your assessment for the round'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'CONFLICT'),
  },
})

export const registerParticipateInTeamRound = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, round_id } = c.req.valid('param')
    const assessment = await c.get('services').rounds.participate(c.get('user'), id, round_id)
    return c.json({ assessment }, 200)
  })
