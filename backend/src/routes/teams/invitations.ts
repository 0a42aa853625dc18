import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { InvitationSchema, pageOf, TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'listTeamInvitations',
  method: 'get',
  path: '/api/v1/teams/{id}/invitations',
  summary: 'The team’s invitations, newest first (owner, admin)',
  request: { params: TeamParams, query: PageQuerySchema },
  responses: {
    200: jsonResponse(pageOf(InvitationSchema), 'A page'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN'),
  },
})

export const registerListTeamInvitations = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(
      await c.get('services').invitations.list(c.get('user'), c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  )
