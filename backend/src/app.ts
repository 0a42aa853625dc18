import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { ApiError } from '@/lib/errors/api-error'
import { handleError, handleNotFound } from '@/lib/errors/handler'
import { accessLog } from '@/lib/http/access-log'
import { cors } from '@/lib/http/cors'
import { jsonBody } from '@/lib/http/json-body'
import { provideServices } from '@/lib/http/provide'
import { rateLimit } from '@/lib/http/rate-limit'
import { createRouter } from '@/lib/http/router'
import { adminRoutes } from '@/routes/admin'
import { aiRoutes } from '@/routes/ai'
import { assessmentRoutes } from '@/routes/assessments'
import { authRoutes } from '@/routes/auth'
import { registerDocs } from '@/routes/docs'
import { healthRoutes } from '@/routes/health'
import { ragRoutes } from '@/routes/rag'
import type { Services } from '@/services'

/**
 * The Hono app: middleware in the order each request meets it, then the routes. Built from
 * already-constructed services, so tests can hand it a shared database.
 */
export function newApp(services: Services) {
  const { config } = services
  const app = createRouter()

  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 200 }))
  app.use(provideServices(services))
  app.use(accessLog(services.logger, services.metrics))
  app.use(secureHeaders())
  app.use('/api/*', cors({ origins: config.CORS_ORIGINS }))
  // Per client address on every API route, before any work (auth, body parsing) is spent.
  if (services.rateLimiter.policies.api) app.use('/api/*', rateLimit('api', 'ip'))
  // Body checks are registered for the methods that carry bodies only, so the router never
  // runs them for GET — most of the traffic (each middleware layer costs microseconds).
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '/api/*',
    bodyLimit({
      maxSize: config.BODY_LIMIT_BYTES,
      onError: () => {
        throw new ApiError('PAYLOAD_TOO_LARGE', {
          message: `The request body is larger than ${config.BODY_LIMIT_BYTES} bytes`,
        })
      },
    }),
    jsonBody(),
  )

  app.route('/', healthRoutes)
  app.route('/', authRoutes)
  app.route('/', assessmentRoutes)
  app.route('/', ragRoutes)
  app.route('/', aiRoutes)
  app.route('/', adminRoutes)
  registerDocs(app, services.version)

  app.notFound(handleNotFound)
  app.onError(handleError)
  return app
}

export type App = ReturnType<typeof newApp>
