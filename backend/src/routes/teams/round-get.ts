import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { RoundParams, RoundSchema, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'getTeamRound',
  method: 'get',
  path: '/api/v1/teams/{id}/rounds/{round_id}',
  summary: 'A round, with your own assessment for it if you joined',
  request: { params: RoundParams },
  responses: {
    200: jsonResponse(z.object({ round: RoundSchema, my_assessment_id: z.uuid().nullable() }), 'The round'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND'),
  },
})

export const registerGetTeamRound = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, round_id } = c.req.valid('param')
    return c.json(await c.get('services').rounds.get(c.get('user'), id, round_id), 200)
  })
