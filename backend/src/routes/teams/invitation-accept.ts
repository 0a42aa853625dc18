import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { MyInvitationParams, TEAM_ERRORS, TeamSchema, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'acceptInvitation',
  method: 'post',
  path: '/api/v1/invitations/{id}/accept',
  summary: 'Accept an invitation addressed to you (not yours or revoked: 404; expired or team full: 409)',
  request: { params: MyInvitationParams },
  responses: {
    200: jsonResponse(z.object({ team: TeamSchema }), 'The team you joined'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'CONFLICT'),
  },
})

export const registerAcceptInvitation = (router: Router) =>
  router.openapi(route, async (c) => {
    const team = await c.get('services').invitations.accept(c.get('user'), c.req.valid('param').id)
    return c.json({ team }, 200)
  })
