import { createRoute, z } from '@hono/zod-openapi'
import { type MetricsAccessOptions, requireAdminOrMetricsToken } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'

// A function: the middleware needs the METRICS_TOKEN options.
const route = (access: MetricsAccessOptions) =>
  createRoute({
    operationId: 'getMetrics',
    method: 'get',
    path: '/metrics',
    tags: ['Operations'],
    summary: 'Prometheus text exposition (METRICS_TOKEN bearer or admin)',
    security: [{ bearer: [] }],
    middleware: guards(requireAdminOrMetricsToken(access)),
    responses: {
      200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } },
      ...errorResponses('UNAUTHORIZED', 'FORBIDDEN'),
    },
  })

export const registerGetMetrics = (router: Router, access: MetricsAccessOptions) =>
  router.openapi(route(access), async (c) => {
    const { registry } = c.get('services').metrics
    c.header('Cache-Control', 'no-store')
    return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType })
  })
