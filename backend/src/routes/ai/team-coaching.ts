import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { AI_ERRORS, aiRoute, SourcesSchema } from '@/routes/ai/schemas'
import type { Router } from '@/routes/router'
import { CoachingSchema } from '@/services/ai/coaching'

const route = createRoute({
  ...aiRoute,
  operationId: 'teamCoaching',
  method: 'post',
  path: '/api/v1/ai/team-coaching',
  summary:
    'Coaching for a team round you are a member of, grounded in its aggregate (never individual answers) and the knowledge base',
  request: jsonRequest(z.object({ team_id: z.uuid(), round_id: z.uuid() }).strict()),
  responses: {
    200: jsonResponse(
      z.object({ coaching: CoachingSchema, sources: SourcesSchema, provider: z.string(), model: z.string() }),
      'Validated team coaching',
    ),
    // NOT_FOUND: not a member, or no such team or round (the same answer);
    // CONFLICT: results hidden (the round is open, or too few members completed it).
    ...errorResponses(...AI_ERRORS, 'NOT_FOUND', 'CONFLICT', 'UPSTREAM_ERROR'),
  },
})

export const registerTeamCoaching = (router: Router) =>
  router.openapi(route, async (c) => {
    const teamCoaching = c.get('services').teamCoaching
    return c.json(await teamCoaching.coach(c.get('user'), c.req.valid('json'), c.req.raw.signal), 200)
  })
