import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { BODY_ERRORS, TEAM_ERRORS, TeamParams, TeamSchema, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'transferTeam',
  method: 'post',
  path: '/api/v1/teams/{id}/transfer',
  summary: 'Hand the team to another member (owner); you become an admin',
  request: { params: TeamParams, ...jsonRequest(z.object({ user_id: z.uuid() }).strict()) },
  responses: {
    200: jsonResponse(z.object({ team: TeamSchema }), 'The team'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', ...BODY_ERRORS),
  },
})

export const registerTransferTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    const team = await c
      .get('services')
      .teams.transfer(c.get('user'), c.req.valid('param').id, c.req.valid('json').user_id)
    return c.json({ team }, 200)
  })
