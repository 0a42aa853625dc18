import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { InvitationSchema, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'listMyInvitations',
  method: 'get',
  path: '/api/v1/invitations',
  summary: 'Pending invitations addressed to your token’s e-mail',
  responses: {
    200: jsonResponse(
      z.object({
        data: z.array(
          InvitationSchema.extend({ team_name: z.string(), invited_by_name: z.string().nullable() }),
        ),
      }),
      'Your pending invitations (at most 100)',
    ),
    ...errorResponses(...TEAM_ERRORS),
  },
})

export const registerListMyInvitations = (router: Router) =>
  router.openapi(route, async (c) => c.json(await c.get('services').invitations.mine(c.get('user')), 200))
