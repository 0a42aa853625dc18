import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { pageOf, RoundSchema, TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'listTeamRounds',
  method: 'get',
  path: '/api/v1/teams/{id}/rounds',
  summary: 'The team’s rounds, newest first',
  request: {
    params: TeamParams,
    query: PageQuerySchema.extend({ status: z.enum(['open', 'closed']).optional() }),
  },
  responses: {
    200: jsonResponse(pageOf(RoundSchema), 'A page'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND'),
  },
})

export const registerListTeamRounds = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(
      await c.get('services').rounds.list(c.get('user'), c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  )
