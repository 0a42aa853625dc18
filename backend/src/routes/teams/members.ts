import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { MemberSchema, pageOf, TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'listTeamMembers',
  method: 'get',
  path: '/api/v1/teams/{id}/members',
  summary: 'The team’s members in join order, with display names from their profiles',
  request: { params: TeamParams, query: PageQuerySchema },
  responses: {
    200: jsonResponse(pageOf(MemberSchema), 'A page'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND'),
  },
})

export const registerListTeamMembers = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(
      await c.get('services').teams.members(c.get('user'), c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  )
