import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import {
  BODY_ERRORS,
  ProfilePatchSchema,
  ProfileSchema,
  USER_ERRORS,
  userRoute,
} from '@/routes/users/schemas'

const route = createRoute({
  ...userRoute,
  operationId: 'updateMyProfile',
  method: 'patch',
  path: '/api/v1/users/me',
  summary: 'Change your profile; role, email, id and unknown fields are refused (400)',
  request: jsonRequest(ProfilePatchSchema),
  responses: {
    200: jsonResponse(z.object({ profile: ProfileSchema }), 'The profile'),
    ...errorResponses(...USER_ERRORS, ...BODY_ERRORS),
  },
})

export const registerUpdateMyProfile = (router: Router) =>
  router.openapi(route, async (c) => {
    const profile = await c.get('services').users.update(c.get('user'), c.req.valid('json'))
    return c.json({ profile }, 200)
  })
