import { createRoute, z } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { ipKey, spend } from '@/lib/http/rate-limit'
import {
  AccountSessionSchema,
  accounts,
  Email,
  goTrueErrors,
  localAuthRoute,
  Password,
} from '@/routes/local-auth/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...localAuthRoute,
  operationId: 'localSignUp',
  method: 'post',
  path: '/auth/v1/signup',
  summary: 'Create a local account (supabase-js signUp) and sign it in',
  request: jsonRequest(
    z.object({
      email: Email,
      password: Password,
      data: z
        .record(z.string(), z.unknown())
        .optional()
        .openapi({ description: 'Becomes user_metadata (≤ 8 KiB)' }),
    }),
  ),
  responses: {
    200: jsonResponse(AccountSessionSchema, 'Signed up and signed in'),
    ...goTrueErrors(400, 413, 422, 429),
  },
})

export const registerLocalSignUp = (router: Router) =>
  router.openapi(route, async (c) => {
    const body = c.req.valid('json')
    const limited = spend(c, 'signup_address', ipKey(c))
    if (limited instanceof Promise) await limited
    return c.json(await accounts(c.get('services')).signUp(body), 200)
  })
