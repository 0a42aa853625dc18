import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import {
  BODY_ERRORS,
  TEAM_ERRORS,
  TeamDescription,
  TeamName,
  TeamParams,
  TeamSchema,
  teamRoute,
} from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'updateTeam',
  method: 'patch',
  path: '/api/v1/teams/{id}',
  summary: 'Rename a team or change its description (owner, admin)',
  request: {
    params: TeamParams,
    ...jsonRequest(z.object({ name: TeamName.optional(), description: TeamDescription.optional() }).strict()),
  },
  responses: {
    200: jsonResponse(z.object({ team: TeamSchema }), 'The team'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', ...BODY_ERRORS),
  },
})

export const registerUpdateTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    const team = await c
      .get('services')
      .teams.update(c.get('user'), c.req.valid('param').id, c.req.valid('json'))
    return c.json({ team }, 200)
  })
