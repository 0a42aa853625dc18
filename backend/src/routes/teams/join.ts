import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { BODY_ERRORS, TEAM_ERRORS, TeamSchema, teamRoute } from '@/routes/teams/schemas'

// Eight characters as shown; spaces, dashes and lower case are forgiven.
const Code = z
  .string()
  .max(32)
  .regex(/^[A-Za-z0-9\s-]+$/, 'Letters and digits only')
  .refine((code) => code.replace(/[\s-]/g, '').length === 8, 'An invite code has 8 characters')

const route = createRoute({
  ...teamRoute,
  operationId: 'joinTeam',
  method: 'post',
  path: '/api/v1/teams/join',
  summary: 'Join a team with its invite code (already a member: the same answer)',
  request: jsonRequest(z.object({ code: Code }).strict()),
  responses: {
    200: jsonResponse(z.object({ team: TeamSchema }), 'The team'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'CONFLICT', ...BODY_ERRORS),
  },
})

export const registerJoinTeam = (router: Router) =>
  router.openapi(route, async (c) => {
    const team = await c.get('services').teams.join(c.get('user'), c.req.valid('json').code)
    return c.json({ team }, 200)
  })
