import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import {
  BODY_ERRORS,
  TEAM_ERRORS,
  TeamDescription,
  TeamName,
  TeamSchema,
  teamRoute,
} from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'createTeam',
  method: 'post',
  path: '/api/v1/teams',
  summary: 'Create a team; you are its owner',
  request: jsonRequest(z.object({ name: TeamName, description: TeamDescription.optional() }).strict()),
  responses: {
    201: jsonResponse(z.object({ team: TeamSchema }), 'Created'),
    ...errorResponses(...TEAM_ERRORS, ...BODY_ERRORS),
  },
})

export const registerCreateTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    const team = await c.get('services').teams.create(c.get('user'), c.req.valid('json'))
    return c.json({ team }, 201)
  })
