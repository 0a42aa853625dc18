import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { RoundParams, RoundSchema, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'closeTeamRound',
  method: 'post',
  path: '/api/v1/teams/{id}/rounds/{round_id}/close',
  summary: 'Close a round now (owner, admin): what counts is frozen; later completions do not count',
  request: { params: RoundParams },
  responses: {
    200: jsonResponse(z.object({ round: RoundSchema }), 'The closed round'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT'),
  },
})

export const registerCloseTeamRound = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, round_id } = c.req.valid('param')
    return c.json({ round: await c.get('services').rounds.close(c.get('user'), id, round_id) }, 200)
  })
