import { createRoute } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { errorResponses } from '@/lib/http/schemas'
import { authRoute } from '@/routes/auth/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...authRoute,
  operationId: 'logout',
  method: 'post',
  path: '/api/v1/auth/logout',
  summary:
    'End this session: the token is refused from now on (and revoked at Supabase Auth in Supabase mode)',
  middleware: guards(requireAuth()),
  responses: { 204: { description: 'Logged out' }, ...errorResponses('UNAUTHORIZED', 'AUTH_UNAVAILABLE') },
})

export const registerLogout = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').auth.logout(c.req.header('authorization'), c.get('user'))
    return c.body(null, 204)
  })
