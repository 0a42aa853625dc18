import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { errorResponses } from '@/lib/http/schemas'
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
  operationId: 'getMe',
  method: 'get',
  path: '/api/v1/auth/me',
  tags: ['Auth'],
  summary: 'The authenticated user',
  security: [{ bearer: [] }],
  middleware: guards(requireAuth()),
  responses: {
    200: {
      description: 'The user',
      content: { 'application/json': { schema: z.object({ user: UserSchema }) } },
    },
    ...errorResponses('UNAUTHORIZED', 'AUTH_UNAVAILABLE'),
  },
})

export const registerGetMe = (router: Router) =>
  router.openapi(route, (c) => {
    const user = c.get('user')
    return c.json({ user: { id: user.id, email: user.email ?? null, role: user.role } }, 200)
  })
