import { createRoute, z } from '@hono/zod-openapi'
import { createMiddleware } from 'hono/factory'
import { ApiError } from '@/lib/errors/api-error'
import { requireAuth } from '@/lib/http/auth'
import type { HttpEnv } from '@/lib/http/context'
import { guards } from '@/lib/http/middleware'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { spendAsAnonymous } from '@/lib/http/rate-limit'
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

/**
 * Hono's RegExpRouter (about twice the trie router's throughput, see operations.test.ts) cannot
 * hold a static `/teams/join` beside `/teams/:id/…` routes. So the route is documented at its
 * real path and served as `POST /teams/{id}`, answering only for the id `join` — anything else
 * there is the usual unknown-route 404, before auth (the body checks of every write have run).
 * Its auth middleware never runs then, so a request with a token spends its address's quota
 * here, as on any unknown route.
 */
const onlyJoin = createMiddleware<HttpEnv>(async function onlyJoin(c, next) {
  if (c.req.param('id') !== 'join') {
    if (c.req.header('authorization') !== undefined) await spendAsAnonymous(c)
    throw new ApiError('NOT_FOUND', { message: `No route for ${c.req.method} ${c.req.path}` })
  }
  await next()
})

export const registerJoinTeam = (router: Router) => {
  const { middleware: _served, ...documented } = route
  router.openAPIRegistry.registerPath(documented)
  router.openapi(
    {
      ...route,
      path: '/api/v1/teams/{id}',
      hide: true,
      middleware: guards(onlyJoin, requireAuth()),
      request: { ...route.request, params: z.object({ id: z.string() }) },
    },
    async (c) => {
      const team = await c.get('services').teams.join(c.get('user'), c.req.valid('json').code)
      return c.json({ team }, 200)
    },
  )
}
