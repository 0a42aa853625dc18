import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import type { Container } from '@/container'
import { ApiError } from '@/lib/errors/api-error'
import { handleError, handleNotFound } from '@/lib/errors/handler'
import { accessLog } from '@/lib/http/access-log'
import { cors } from '@/lib/http/cors'
import { jsonBody } from '@/lib/http/json-body'
import { rateLimit } from '@/lib/http/rate-limit'
import { adminRoutes } from '@/routes/admin'
import { aiRoutes } from '@/routes/ai'
import { assessmentRoutes } from '@/routes/assessments'
import { authRoutes } from '@/routes/auth'
import { conversationRoutes } from '@/routes/conversations'
import { registerDocs } from '@/routes/docs'
import { healthRoutes } from '@/routes/health'
import { ragRoutes } from '@/routes/rag'
import { createRouter } from '@/routes/router'

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
  }

  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 200 }))
  app.use(async function provide(c, next) {
    c.set('http', http)
    c.set('services', container)
    await next()
  })
  app.use(accessLog(container.logger, container.metrics))
  app.use(secureHeaders())
  app.use('/api/*', cors({ origins: config.http.corsOrigins }))
  // Per client address on every API route, before any work (auth, body parsing) is spent.
  if (container.rateLimiter.policies.api) app.use('/api/*', rateLimit({ policy: 'api', key: 'ip' }))
  // Body checks are registered for the methods that carry bodies only, so the router never
  // runs them for GET — most of the traffic (each middleware layer costs microseconds).
  const { bodyLimitBytes } = config.http
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '/api/*',
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: () => {
        throw new ApiError('PAYLOAD_TOO_LARGE', {
          message: `The request body is larger than ${bodyLimitBytes} bytes`,
        })
      },
    }),
    jsonBody(),
  )

  app.route('/', healthRoutes)
  const access = { metricsToken: config.http.metricsToken }
  app.route('/', authRoutes(access))
  app.route('/', assessmentRoutes)
  app.route('/', ragRoutes)
  app.route('/', aiRoutes)
  app.route('/', conversationRoutes)
  app.route('/', adminRoutes(access))
  registerDocs(app, container.version)

  app.notFound(handleNotFound)
  app.onError(handleError)
  return app
}

export type App = ReturnType<typeof newApp>
