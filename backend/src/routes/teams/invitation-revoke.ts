import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { InvitationParams, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'revokeTeamInvitation',
  method: 'delete',
  path: '/api/v1/teams/{id}/invitations/{invitation_id}',
  summary: 'Revoke an invitation (owner, admin); accepting it afterwards is a 404',
  request: { params: InvitationParams },
  responses: {
    204: { description: 'Revoked' },
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN'),
  },
})

export const registerRevokeTeamInvitation = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, invitation_id } = c.req.valid('param')
    await c.get('services').invitations.revoke(c.get('user'), id, invitation_id)
    return c.body(null, 204)
  })
