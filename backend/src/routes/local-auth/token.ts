import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { ipKey, spend } from '@/lib/http/rate-limit'
import { GoTrueError } from '@/routes/local-auth/gotrue-error'
import {
  AccountSessionSchema,
  accounts,
  Email,
  goTrueErrors,
  localAuthRoute,
  Password,
} from '@/routes/local-auth/schemas'
import type { AppEnv, Router } from '@/routes/router'
import { emailSubject } from '@/services/accounts/local-accounts'

const route = createRoute({
  ...localAuthRoute,
  operationId: 'localToken',
  method: 'post',
  path: '/auth/v1/token',
  summary: 'Password sign-in (grant_type=password) or refresh-token exchange (grant_type=refresh_token)',
  request: {
    // Checked in the handler, so an unknown grant is GoTrue's answer, not a schema error.
    query: z.object({ grant_type: z.string().max(64).optional() }),
    ...jsonRequest(
      z.object({
        email: Email.optional(),
        password: Password.optional(),
        refresh_token: z.string().max(512).optional(),
      }),
    ),
  },
  responses: {
    200: jsonResponse(AccountSessionSchema, 'A session; a refresh returns a new refresh token'),
    ...goTrueErrors(400, 413, 429),
  },
})

const missing = (what: string) => new GoTrueError(400, 'validation_failed', `${what} required`)

/** Per address first, then per e-mail: a guesser of one account is slowed from every address. */
async function limitSignIn(c: Context<AppEnv>, email: string) {
  for (const [policy, subject] of [
    ['signin_address', ipKey(c)],
    ['signin_email', emailSubject(email)],
  ] as const) {
    const found = spend(c, policy, subject)
    if (found instanceof Promise) await found
  }
}

export const registerLocalToken = (router: Router) =>
  router.openapi(route, async (c) => {
    const { grant_type } = c.req.valid('query')
    const body = c.req.valid('json')
    if (grant_type === 'password') {
      if (body.email === undefined || body.password === undefined) throw missing('email and password')
      await limitSignIn(c, body.email)
      return c.json(
        await accounts(c.get('services')).signIn({ email: body.email, password: body.password }),
        200,
      )
    }
    if (grant_type === 'refresh_token') {
      if (!body.refresh_token) throw missing('refresh_token')
      return c.json(await accounts(c.get('services')).refresh(body.refresh_token), 200)
    }
    throw new GoTrueError(400, 'validation_failed', 'unsupported_grant_type')
  })
