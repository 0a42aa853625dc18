import { createRoute } from '@hono/zod-openapi'
import { parseBearer } from '@/lib/auth/bearer'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { USER_ERRORS, userRoute } from '@/routes/users/schemas'

const route = createRoute({
  ...userRoute,
  operationId: 'deleteMyAccount',
  method: 'delete',
  path: '/api/v1/users/me',
  summary:
    'Delete your account and all your data in one transaction; your tokens stop working at once. 409 while you own a team that has other members',
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(...USER_ERRORS, 'CONFLICT'),
  },
})

export const registerDeleteMyAccount = (router: Router) =>
  router.openapi(route, async (c) => {
    // requireAuth accepted this header, so it parses.
    const bearer = parseBearer(c.req.header('authorization'))
    await c.get('services').users.remove(c.get('user'), bearer.ok ? bearer.token : '')
    return c.body(null, 204)
  })
