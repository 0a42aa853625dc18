import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { BODY_ERRORS, MemberParams, MemberSchema, TEAM_ERRORS, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'setTeamMemberRole',
  method: 'patch',
  path: '/api/v1/teams/{id}/members/{user_id}',
  summary: 'Promote a member to admin or demote an admin (owner); the owner’s role moves only by transfer',
  request: { params: MemberParams, ...jsonRequest(z.object({ role: z.enum(['admin', 'member']) }).strict()) },
  responses: {
    200: jsonResponse(z.object({ member: MemberSchema }), 'The member'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', ...BODY_ERRORS),
  },
})

export const registerSetTeamMemberRole = (router: Router) =>
  router.openapi(route, async (c) => {
    const { id, user_id } = c.req.valid('param')
    const member = await c.get('services').teams.setRole(c.get('user'), id, user_id, c.req.valid('json').role)
    return c.json({ member }, 200)
  })
