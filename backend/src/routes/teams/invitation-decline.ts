import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { MyInvitationParams, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'declineInvitation',
  method: 'post',
  path: '/api/v1/invitations/{id}/decline',
  summary: 'Decline an invitation addressed to you (not yours: 404; expired: 409)',
  request: { params: MyInvitationParams },
  responses: {
    204: { description: 'Declined' },
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'CONFLICT'),
  },
})

export const registerDeclineInvitation = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').invitations.decline(c.get('user'), c.req.valid('param').id)
    return c.body(null, 204)
  })
