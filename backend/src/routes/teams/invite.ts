import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { BODY_ERRORS, InvitationSchema, TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'inviteToTeam',
  method: 'post',
  path: '/api/v1/teams/{id}/invitations',
  summary: 'Invite an e-mail address for 7 days (owner, admin)',
  description: 'The person whose token carries that e-mail sees it under /api/v1/invitations.',
  request: {
    params: TeamParams,
    ...jsonRequest(
      z.object({ email: z.email().max(320), role: z.enum(['member', 'admin']).optional() }).strict(),
    ),
  },
  responses: {
    201: jsonResponse(z.object({ invitation: InvitationSchema }), 'Invited'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', ...BODY_ERRORS),
  },
})

export const registerInviteToTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    const invitation = await c
      .get('services')
      .invitations.invite(c.get('user'), c.req.valid('param').id, c.req.valid('json'))
    return c.json({ invitation }, 201)
  })
