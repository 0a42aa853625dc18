import { createRoute, z } from '@hono/zod-openapi'
import { type MetricsAccessOptions, requireAdminOrMetricsToken } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS } from '@/routes/admin/schemas'
import { authRoute } from '@/routes/auth/schemas'
import type { Router } from '@/routes/router'

const CacheStatsSchema = z
  .object({
    size: z.number().int(),
    max_entries: z.number().int(),
    ttl_ms: z.number().int(),
    hits: z.number().int(),
    misses: z.number().int(),
    hit_rate: z.number().min(0).max(1),
    negative_hits: z.number().int(),
    evictions: z.number().int(),
    deduplicated: z.number().int(),
    upstream_calls: z.number().int(),
    upstream_errors: z.number().int(),
    upstream_p50_ms: z.number(),
    upstream_p99_ms: z.number(),
  })
  .openapi('AuthCacheStats')

// A function: the middleware needs the METRICS_TOKEN options.
const route = (access: MetricsAccessOptions) =>
  createRoute({
    ...authRoute,
    operationId: 'getAuthCacheStats',
    method: 'get',
    path: '/api/v1/auth/cache-stats',
    summary: 'Token cache statistics (admin, or METRICS_TOKEN)',
    middleware: guards(requireAdminOrMetricsToken(access)),
    responses: {
      200: jsonResponse(CacheStatsSchema, 'Statistics'),
      ...errorResponses(...ADMIN_ERRORS, 'AUTH_UNAVAILABLE'),
    },
  })

export const registerGetAuthCacheStats = (router: Router, access: MetricsAccessOptions) =>
  // `await`: the stats may come from a shared (async) store.
  router.openapi(route(access), async (c) => c.json(await c.get('services').auth.stats(), 200))
