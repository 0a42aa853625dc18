import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { ADMIN_ERRORS, AdminUserSchema, adminRoute } from '@/routes/admin/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminRoute,
  operationId: 'listUsers',
  method: 'get',
  path: '/api/v1/admin/users',
  summary: 'Every user, newest first; `q` filters by e-mail prefix (admin)',
  request: {
    query: PageQuerySchema.extend({ q: freeText({ max: 320 }).optional().openapi({ example: 'ada@' }) }),
  },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(AdminUserSchema), next_cursor: z.string().nullable() }),
      'A page',
    ),
    ...errorResponses(...ADMIN_ERRORS, 'VALIDATION_ERROR', 'AUTH_UNAVAILABLE'),
  },
})

export const registerListUsers = (router: Router) =>
  router.openapi(route, async (c) =>
    c.json(await c.get('services').adminUsers.list(c.req.valid('query')), 200),
  )
