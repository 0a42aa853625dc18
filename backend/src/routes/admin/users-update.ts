import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, AdminUserSchema, adminRoute } from '@/routes/admin/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminRoute,
  operationId: 'setUserRole',
  method: 'patch',
  path: '/api/v1/admin/users/{id}',
  summary: 'Make a user an admin or a user again; effective on their next request (admin)',
  description:
    'Sets the profile role. Someone whose server-controlled app_metadata.role is admin stays admin.',
  request: {
    params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) }),
    ...jsonRequest(z.object({ role: z.enum(['admin', 'user']) }).strict()),
  },
  responses: {
    200: jsonResponse(z.object({ user: AdminUserSchema }), 'The user'),
    ...errorResponses(
      ...ADMIN_ERRORS,
      'VALIDATION_ERROR',
      'NOT_FOUND',
      'AUTH_UNAVAILABLE',
      'INVALID_JSON',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
    ),
  },
})

export const registerSetUserRole = (router: Router) =>
  router.openapi(route, async (c) => {
    const user = await c.get('services').adminUsers.setRole(c.req.valid('param').id, c.req.valid('json').role)
    return c.json({ user }, 200)
  })
