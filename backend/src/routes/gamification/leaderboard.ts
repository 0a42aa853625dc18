import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import {
  GAMIFICATION_ERRORS,
  gamificationRoute,
  LeaderboardQuerySchema,
  LeaderboardSchema,
} from '@/routes/gamification/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...gamificationRoute,
  operationId: 'getLeaderboard',
  method: 'get',
  path: '/api/v1/gamification/leaderboard',
  summary:
    'Global (users who opted in) or one team’s (its members; not a member → 404) board, with your own place',
  request: { query: LeaderboardQuerySchema },
  responses: {
    200: jsonResponse(LeaderboardSchema, 'The board'),
    ...errorResponses(...GAMIFICATION_ERRORS, 'VALIDATION_ERROR', 'NOT_FOUND'),
  },
})

export const registerGetLeaderboard = (router: Router) =>
  router.openapi(route, async (c) => {
    const { scope, team_id: teamId, limit } = c.req.valid('query')
    const { leaderboard } = c.get('services')
    const user = c.get('user')
    const board =
      scope === 'team' && teamId
        ? await leaderboard.team(user, teamId, limit)
        : await leaderboard.global(user, limit)
    return c.json(board, 200)
  })
