import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { TEAM_ERRORS, TeamParams, TeamSchema, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'getTeam',
  method: 'get',
  path: '/api/v1/teams/{id}',
  summary: 'A team you are a member of (anyone else: 404, as for a missing team)',
  request: { params: TeamParams },
  responses: {
    200: jsonResponse(z.object({ team: TeamSchema }), 'The team'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND'),
  },
})

export const registerGetTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    const team = await c.get('services').teams.get(c.get('user'), c.req.valid('param').id)
    return c.json({ team }, 200)
  })
