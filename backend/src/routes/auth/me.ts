import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { authRoute } from '@/routes/auth/schemas'
import type { Router } from '@/routes/router'

const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    role: z
      .enum(['admin', 'user'])
      .openapi({ description: 'From server-controlled app_metadata or user_profiles, never user_metadata' }),
  })
  .openapi('User')

const route = createRoute({
  ...authRoute,
  operationId: 'getMe',
  method: 'get',
  path: '/api/v1/auth/me',
  summary: 'The authenticated user',
  middleware: guards(requireAuth()),
  responses: {
    200: jsonResponse(z.object({ user: UserSchema }), 'The user'),
    ...errorResponses('UNAUTHORIZED', 'AUTH_UNAVAILABLE'),
  },
})

export const registerGetMe = (router: Router) =>
  router.openapi(route, (c) => {
    const user = c.get('user')
    return c.json({ user: { id: user.id, email: user.email ?? null, role: user.role } }, 200)
  })
