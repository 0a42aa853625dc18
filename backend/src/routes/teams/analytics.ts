import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'
import { TEAM_ERRORS, TeamParams, teamRoute } from '@/routes/teams/schemas'

const route = createRoute({
  ...teamRoute,
  operationId: 'getTeamAnalytics',
  method: 'get',
  path: '/api/v1/teams/{id}/analytics',
  summary: 'Participation across closed rounds and each pillar’s trend of visible round means',
  request: { params: TeamParams },
  responses: {
    200: jsonResponse(
      z.object({
        members: z.number().int(),
        rounds: z.number().int().openapi({ description: 'Closed rounds' }),
        participation_rate: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .openapi({ description: 'Completions ÷ members over closed rounds; null before the first closes' }),
        pillars: z.array(
          z.object({
            pillar_id: PillarIdSchema,
            mode: ModeSchema,
            latest_mean: z.number().nullable(),
            trend: z.array(z.object({ round_id: z.uuid(), closed_at: z.string(), mean: z.number() })),
          }),
        ),
      }),
      'Team analytics',
    ),
    ...errorResponses(...TEAM_ERRORS, 'NOT_FOUND'),
  },
})

export const registerGetTeamAnalytics = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').rounds.analytics(c.get('user'), c.req.valid('param').id), 200),
  )
