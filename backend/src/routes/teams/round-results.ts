import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import {
  RoundAggregateSchema,
  RoundParams,
  RoundSchema,
  TEAM_ERRORS,
  teamRoute,
} from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'getTeamRoundResults',
  method: 'get',
  path: '/api/v1/teams/{id}/rounds/{round_id}/results',
  summary: 'The group’s aggregate: shown only once the round is closed and enough members completed',
  description:
    'While a round is open only participation counts are shown: an aggregate that moved with each completion would give each newcomer’s score away.',
  request: { params: RoundParams },
  responses: {
    200: jsonResponse(
      z.object({
        round: RoundSchema,
        participation: z.object({
          members: z.number().int(),
          started: z.number().int(),
          completed: z.number().int(),
        }),
        visible: z.boolean(),
        min_completed: z.number().int(),
        results: RoundAggregateSchema.nullable(),
      }),
      'Participation, and the aggregate when visible',
    ),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND'),
  },
})

export const registerGetTeamRoundResults = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, round_id } = c.req.valid('param')
    return c.json(await c.get('services').rounds.results(c.get('user'), id, round_id), 200)
  })
