import { createRoute } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { AccountUserSchema, accounts, goTrueErrors, localAuthRoute } from '@/routes/local-auth/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...localAuthRoute,
  operationId: 'localGetUser',
  method: 'get',
  path: '/auth/v1/user',
  summary: 'The signed-in user (supabase-js getUser)',
  security: [{ bearer: [] }],
  middleware: guards(requireAuth()),
  responses: {
    200: jsonResponse(AccountUserSchema, 'The user'),
    ...goTrueErrors(401, 404, 429, 503),
  },
})

export const registerLocalGetUser = (router: Router) =>
  router.openapi(route, async (c) => c.json(await accounts(c.get('services')).user(c.get('user')), 200))
