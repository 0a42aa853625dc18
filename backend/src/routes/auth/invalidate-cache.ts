import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS } from '@/routes/admin/schemas'
import { authRoute } from '@/routes/auth/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...authRoute,
  operationId: 'invalidateAuthCache',
  method: 'post',
  path: '/api/v1/auth/invalidate-cache',
  summary: "Evict every cached token, or one user's (admin)",
  middleware: guards(requireAdmin()),
  // The body is optional: without one (or without `user_id`) every token is evicted.
  request: jsonRequest(z.object({ user_id: z.uuid().optional() }).strict(), { required: false }),
  responses: {
    200: jsonResponse(z.object({ evicted: z.number().int() }), 'How many cache entries were evicted'),
    ...errorResponses(...ADMIN_ERRORS, 'VALIDATION_ERROR', 'INVALID_JSON', 'AUTH_UNAVAILABLE'),
  },
})

export const registerInvalidateAuthCache = (router: Router) =>
  router.openapi(route, async (c) => {
    const body = c.req.valid('json') as { user_id?: string } | undefined
    return c.json({ evicted: c.get('services').auth.invalidate(body?.user_id) }, 200)
  })
