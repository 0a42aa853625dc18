import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'rotateTeamInviteCode',
  method: 'post',
  path: '/api/v1/teams/{id}/invite-code',
  summary: 'A new invite code, valid 7 days; the previous one stops working (owner, admin)',
  description: 'Shown once: only a hash of the code is stored.',
  request: { params: TeamParams },
  responses: {
    200: jsonResponse(
      z.object({ code: z.string().openapi({ example: 'K7M2QX9D' }), expires_at: z.string() }),
      'The new code',
    ),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN'),
  },
})

export const registerRotateTeamInviteCode = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').teams.rotateCode(c.get('user'), c.req.valid('param').id), 200),
  )
