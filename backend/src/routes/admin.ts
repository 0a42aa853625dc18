import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin, requireAdminOrMetricsToken } from '@/lib/http/auth'
import { createRouter } from '@/lib/http/router'
import { errorResponses } from '@/lib/http/schemas'

const cleanup = createRoute({
  method: 'post',
  path: '/api/v1/admin/cleanup-sessions',
  tags: ['Admin'],
  summary: 'Remove expired conversations and their messages now',
  security: [{ bearer: [] }],
  middleware: [requireAdmin()],
  responses: {
    200: {
      description: 'What was removed',
      content: {
        'application/json': { schema: z.object({ deleted: z.number().int(), duration_ms: z.number() }) },
      },
    },
    ...errorResponses('RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN'),
  },
})

const BreakerSchema = z.object({
  name: z.string(),
  state: z.enum(['closed', 'open', 'half_open']),
  failures: z.number().int(),
  successes: z.number().int(),
  rejects: z.number().int(),
  timeouts: z.number().int(),
})

const stats = createRoute({
  method: 'get',
  path: '/api/v1/admin/stats',
  tags: ['Admin'],
  summary: 'Per-route latency (from the Prometheus histograms), auth cache and breakers',
  security: [{ bearer: [] }],
  middleware: [requireAdmin()],
  responses: {
    200: {
      description: 'Statistics since the process started (breaker counters: their rolling window)',
      content: {
        'application/json': {
          schema: z.object({
            http: z.object({
              routes: z.array(
                z.object({
                  route: z.string(),
                  count: z.number().int(),
                  errors: z.number().int(),
                  p50_ms: z.number(),
                  p95_ms: z.number(),
                  p99_ms: z.number(),
                }),
              ),
            }),
            auth_cache: z.record(z.string(), z.number()),
            breakers: z.array(BreakerSchema),
            rate_limits: z.object({ rejected: z.number().int() }),
          }),
        },
      },
    },
    ...errorResponses('RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN'),
  },
})

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Operations'],
  summary: 'Prometheus text exposition (METRICS_TOKEN bearer or admin)',
  security: [{ bearer: [] }],
  middleware: [requireAdminOrMetricsToken()],
  responses: {
    200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } },
    ...errorResponses('UNAUTHORIZED', 'FORBIDDEN'),
  },
})

export const adminRoutes = createRouter()
  .openapi(cleanup, async (c) => c.json(await c.get('services').conversations.cleanup(), 200))
  .openapi(stats, async (c) => {
    const services = c.get('services')
    return c.json(
      {
        http: { routes: await services.metrics.httpRoutes() },
        auth_cache: { ...services.auth.stats() },
        breakers: services.metrics.breakerStats(),
        rate_limits: { rejected: await services.metrics.rateLimitRejections() },
      },
      200,
    )
  })
  .openapi(metrics, async (c) => {
    const { registry } = c.get('services').metrics
    c.header('Cache-Control', 'no-store')
    return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType })
  })
