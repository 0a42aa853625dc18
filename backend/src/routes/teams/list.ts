import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { pageOf, TEAM_ERRORS, TeamSchema, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'listTeams',
  method: 'get',
  path: '/api/v1/teams',
  summary: 'The teams you are a member of, newest membership first',
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(pageOf(TeamSchema), 'A page'),
    ...errorResponses(...TEAM_ERRORS),
  },
})

export const registerListTeams = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').teams.list(c.get('user'), c.req.valid('query')), 200),
  )
