import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'deleteTeam',
  method: 'delete',
  path: '/api/v1/teams/{id}',
  summary:
    'Delete a team with its memberships, invitations and rounds (owner); assessments stay their owners’',
  request: { params: TeamParams },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN'),
  },
})

export const registerDeleteTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').teams.remove(c.get('user'), c.req.valid('param').id)
    return c.body(null, 204)
  })
