import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'invalidateAuthCache',
  method: 'post',
  path: '/api/v1/auth/invalidate-cache',
  tags: ['Auth'],
  summary: "Evict every cached token, or one user's (admin)",
  security: [{ bearer: [] }],
  middleware: guards(requireAdmin()),
  request: {
    body: {
      required: false,
      content: { 'application/json': { schema: z.object({ user_id: z.uuid().optional() }).strict() } },
    },
  },
  responses: {
    200: {
      description: 'How many cache entries were evicted',
      content: { 'application/json': { schema: z.object({ evicted: z.number().int() }) } },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'AUTH_UNAVAILABLE',
    ),
  },
})

export const registerInvalidateAuthCache = (router: Router) =>
  router.openapi(route, async (c) => {
    const body = c.req.valid('json') as { user_id?: string } | undefined
    return c.json({ evicted: c.get('services').auth.invalidate(body?.user_id) }, 200)
  })
