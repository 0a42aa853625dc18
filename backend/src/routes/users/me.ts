import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { ProfileSchema, USER_ERRORS, userRoute } from '@/routes/users/schemas'

const route = createRoute({
  ...userRoute,
  operationId: 'getMyProfile',
  method: 'get',
  path: '/api/v1/users/me',
  summary: 'Your profile (created on first use)',
  responses: {
    200: jsonResponse(z.object({ profile: ProfileSchema }), 'The profile'),
    ...errorResponses(...USER_ERRORS),
  },
})

export const registerGetMyProfile = (router: Router) =>
  router.openapi(route, async (c) => {
    const profile = await c.get('services').users.get(c.get('user'))
    return c.json({ profile }, 200)
  })
