import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { MemberParams, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'removeTeamMember',
  method: 'delete',
  path: '/api/v1/teams/{id}/members/{user_id}',
  summary: 'Remove a member (owner: anyone; admin: plain members) or leave (your own id); the owner: 409',
  request: { params: MemberParams },
  responses: {
    204: { description: 'Removed' },
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT'),
  },
})

export const registerRemoveTeamMember = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, user_id } = c.req.valid('param')
    await c.get('services').teams.removeMember(c.get('user'), id, user_id)
    return c.body(null, 204)
  })
