import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'
import {
  BODY_ERRORS,
  RoundSchema,
  TEAM_ERRORS,
  TeamName,
  TeamParams,
  teamRoute,
} from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'createTeamRound',
  method: 'post',
  path: '/api/v1/teams/{id}/rounds',
  summary: 'Open a round of one pillar’s assessment for the team (owner, admin)',
  request: {
    params: TeamParams,
    ...jsonRequest(
      z
        .object({
          name: TeamName,
          pillar_id: PillarIdSchema,
          mode: ModeSchema,
          closes_at: z.iso.datetime({ offset: true }).nullable().optional().openapi({
            description: 'When the round closes by itself (ISO 8601, in the future)',
          }),
        })
        .strict(),
    ),
  },
  responses: {
    201: jsonResponse(z.object({ round: RoundSchema }), 'Opened'),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND', 'FORBIDDEN', ...BODY_ERRORS),
  },
})

export const registerCreateTeamRound = (router: Router) =>
  router.openapi(route, async (c) => {
    const round = await c
      .get('services')
      .rounds.create(c.get('user'), c.req.valid('param').id, c.req.valid('json'))
    return c.json({ round }, 201)
  })
