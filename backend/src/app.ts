import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import type { Container } from '@/container'
import { ApiError } from '@/lib/errors/api-error'
import { handleError, handleNotFound } from '@/lib/errors/handler'
import { accessLog } from '@/lib/http/access-log'
import { cors } from '@/lib/http/cors'
import { jsonBody } from '@/lib/http/json-body'
import { inSeries } from '@/lib/http/middleware'
import { apiRateLimit, limitedNotFound, spendForRefusedBody } from '@/lib/http/rate-limit'
import { VerifyGate } from '@/lib/http/verify-gate'
import { adminRoutes } from '@/routes/admin'
import { aiRoutes } from '@/routes/ai'
import { assessmentRoutes } from '@/routes/assessments'
import { authRoutes } from '@/routes/auth'
import { contentRoutes } from '@/routes/content'
import { conversationRoutes } from '@/routes/conversations'
import { registerDocs } from '@/routes/docs'
import { eventRoutes } from '@/routes/events'
import { gamificationRoutes } from '@/routes/gamification'
import { noteWriteActivity } from '@/routes/gamification/activity'
import { healthRoutes } from '@/routes/health'
import { localAuthCors, localAuthRoutes } from '@/routes/local-auth'
import { ragRoutes } from '@/routes/rag'
import { createRouter } from '@/routes/router'
import { teamRoutes } from '@/routes/teams'
import { userRoutes } from '@/routes/users'

/**
 * Per client address: 8 token verifications in flight (a NAT full of people signing in is
 * served at once), 1 once the address has spent its refused-token quota, 64 waiting at most.
 */
const VERIFY_GATE = { perAddress: 8, lockedPerAddress: 1, maxWaiting: 64 }

/**
 * The Hono app: middleware in the order each request meets it, then the routes. Built from an
 * already-constructed container, so tests can hand it a shared database.
 */
export function newApp(container: Container) {
  const { config } = container
  const app = createRouter()
  // What lib/http's middleware reads per request (see HttpDeps): one object, built once.
  const http = {
    authenticator: container.auth,
    rateLimiter: container.rateLimiter,
    logger: container.logger,
    trustProxy: config.http.trustProxy,
    verifyGate: new VerifyGate(VERIFY_GATE),
  }

  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 200 }))
  app.use(async function provide(c, next) {
    c.set('http', http)
    c.set('services', container)
    await next()
  })
  app.use(accessLog(container.logger, container.metrics))
  app.use(secureHeaders())
  // Every API request is limited once (CORS answers preflights before this): here per client
  // address when it is anonymous (before its body is read), or per user by the route's auth
  // middleware — which runs after the body checks below, so a request with a token meets the
  // size and JSON checks first, and one they refuse spends its address's quota instead
  // (spendForRefusedBody; see rate-limit.ts for the rest). CORS and this limit are one layer.
  const { policies } = container.rateLimiter
  const apiCors = cors({ origins: config.http.corsOrigins })
  app.use('/api/*', policies.api || policies.anon ? inSeries(apiCors, apiRateLimit()) : apiCors)
  // Local accounts (local auth only; in Supabase mode /auth/v1 is not mounted: 404).
  if (container.localAccounts) app.use('/auth/v1/*', localAuthCors(config.http.corsOrigins))
  // Body checks are registered for the methods that carry bodies only, so the router never
  // runs them for GET — most of the traffic (each middleware layer costs microseconds).
  const { bodyLimitBytes } = config.http
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '/api/*',
    // The one body limit (Bun's own cap is out of the way, see index.ts): a declared
    // Content-Length is refused before anything is read, a chunked body once its bytes pass the
    // limit, so at most BODY_LIMIT_BYTES is ever held. Thrown, so the 413 is the API's JSON error,
    // with the X-Request-Id and CORS headers written before it.
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: async (c) => {
        await spendForRefusedBody(c)
        throw new ApiError('PAYLOAD_TOO_LARGE', {
          message: `The request body is larger than ${bodyLimitBytes} bytes`,
        })
      },
    }),
    jsonBody(),
  )
  // A successful authenticated write is the day's activity (points and streak), noted after it.
  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '/api/*', noteWriteActivity())

  app.route('/', healthRoutes)
  if (container.localAccounts) app.route('/', localAuthRoutes({ bodyLimitBytes }))
  const access = { metricsToken: config.http.metricsToken }
  app.route('/', authRoutes(access))
  app.route('/', assessmentRoutes)
  app.route('/', ragRoutes)
  app.route('/', aiRoutes)
  app.route('/', conversationRoutes)
  app.route('/', teamRoutes)
  app.route('/', userRoutes)
  app.route('/', contentRoutes)
  app.route('/', eventRoutes)
  app.route('/', gamificationRoutes)
  app.route('/', adminRoutes(access))
  registerDocs(app, container.version)

  app.notFound(policies.api || policies.anon ? limitedNotFound(handleNotFound) : handleNotFound)
  app.onError(handleError)
  return app
}

export type App = ReturnType<typeof newApp>
