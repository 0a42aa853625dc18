import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { API_VERSION_HEADER, GoTrueError } from '@/routes/local-auth/gotrue-error'
import { registerLocalLogout } from '@/routes/local-auth/logout'
import { handleGoTrueError } from '@/routes/local-auth/on-error'
import { registerLocalSignUp } from '@/routes/local-auth/signup'
import { registerLocalToken } from '@/routes/local-auth/token'
import { registerLocalGetUser } from '@/routes/local-auth/user'
import { createRouter } from '@/routes/router'

export interface LocalAuthRouteOptions {
  /** BODY_LIMIT_BYTES: the app's one body limit, answered here in GoTrue's shape. */
  bodyLimitBytes: number
}

/**
 * The subset of Supabase Auth's HTTP API that supabase-js calls for signUp, signInWithPassword,
 * refreshSession, getUser and signOut, over local accounts. Mounted only in local auth mode
 * (app.ts), so in Supabase mode every /auth/v1 path is the app's 404. Its own `onError` gives
 * every error, also a schema or rate-limit one, GoTrue's body.
 */
export function localAuthRoutes({ bodyLimitBytes }: LocalAuthRouteOptions) {
  const router = createRouter()
  router.on(
    'POST',
    '/auth/v1/*',
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: () => {
        throw new GoTrueError(
          413,
          'request_too_large',
          `The request body is larger than ${bodyLimitBytes} bytes`,
        )
      },
    }),
  )
  // Registration order is route-matching order: keep it.
  registerLocalSignUp(router)
  registerLocalToken(router)
  registerLocalGetUser(router)
  registerLocalLogout(router)
  router.onError(handleGoTrueError)
  return router
}

/**
 * CORS for the SPA's supabase-js on /auth/v1: the headers it sends (its `apikey`,
 * `x-client-info` and `x-supabase-api-version` besides the usual ones), and the API-version
 * header exposed — without it auth-js in a browser cannot read an error's code.
 */
export function localAuthCors(origins: string[]) {
  return cors({
    origin: origins.includes('*') ? '*' : origins,
    allowMethods: ['GET', 'POST', 'PUT', 'OPTIONS'],
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'Accept',
      'apikey',
      'X-Client-Info',
      API_VERSION_HEADER,
      'X-Request-Id',
    ],
    exposeHeaders: [
      API_VERSION_HEADER,
      'X-Request-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
    maxAge: 600,
  })
}
