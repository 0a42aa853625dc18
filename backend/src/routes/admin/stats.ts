import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, adminRoute } from '@/routes/admin/schemas'
import type { Router } from '@/routes/router'

const BreakerSchema = z.object({
  name: z.string(),
  state: z.enum(['closed', 'open', 'half_open']),
  failures: z.number().int(),
  successes: z.number().int(),
  rejects: z.number().int(),
  timeouts: z.number().int(),
})

const route = createRoute({
  ...adminRoute,
  operationId: 'getAdminStats',
  method: 'get',
  path: '/api/v1/admin/stats',
  summary: 'Per-route latency (from the Prometheus histograms), auth cache and breakers',
  responses: {
    200: jsonResponse(
      z.object({
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
      'Statistics since the process started (breaker counters: their rolling window)',
    ),
    ...errorResponses(...ADMIN_ERRORS),
  },
})

export const registerGetAdminStats = (router: Router) =>
  router.openapi(route, async (c) => {
    const services = c.get('services')
    return c.json(
      {
        http: { routes: await services.metrics.httpRoutes() },
        // `await`: the stats may come from a shared (async) store; spreading a promise gives `{}`.
        auth_cache: { ...(await services.auth.stats()) },
        breakers: services.metrics.breakerStats(),
        rate_limits: { rejected: await services.metrics.rateLimitRejections() },
      },
      200,
    )
  })
