import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { accounts, goTrueErrors, localAuthRoute } from '@/routes/local-auth/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...localAuthRoute,
  operationId: 'localLogout',
  method: 'post',
  path: '/auth/v1/logout',
  summary:
    'Sign out (supabase-js signOut): this session (local), every other one (others) or all (global, the default); their tokens are refused at once',
  security: [{ bearer: [] }],
  middleware: guards(requireAuth()),
  request: { query: z.object({ scope: z.enum(['global', 'local', 'others']).default('global') }) },
  responses: {
    204: { description: 'Signed out' },
    ...goTrueErrors(400, 401, 429, 503),
  },
})

export const registerLocalLogout = (router: Router) =>
  router.openapi(route, async (c) => {
    const { scope } = c.req.valid('query')
    await accounts(c.get('services')).logout(c.req.header('authorization'), c.get('user'), scope)
    return c.body(null, 204)
  })
