import { createRoute, z } from '@hono/zod-openapi'
import { currentUser, requireAdmin, requireAdminOrMetricsToken, requireAuth } from '@/lib/http/auth'
import { createRouter } from '@/lib/http/router'
import { errorResponses } from '@/lib/http/schemas'

const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    role: z
      .enum(['admin', 'user'])
      .openapi({ description: 'From server-controlled app_metadata or user_profiles, never user_metadata' }),
  })
  .openapi('User')

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

const security = [{ bearer: [] }]
const authErrors = errorResponses('UNAUTHORIZED', 'AUTH_UNAVAILABLE')

const me = createRoute({
  method: 'get',
  path: '/api/v1/auth/me',
  tags: ['Auth'],
  summary: 'The authenticated user',
  security,
  middleware: [requireAuth()] as const,
  responses: {
    200: {
      description: 'The user',
      content: { 'application/json': { schema: z.object({ user: UserSchema }) } },
    },
    ...authErrors,
  },
})

const logout = createRoute({
  method: 'post',
  path: '/api/v1/auth/logout',
  tags: ['Auth'],
  summary:
    'End this session: the token is refused from now on (and revoked at Supabase Auth in Supabase mode)',
  security,
  middleware: [requireAuth()] as const,
  responses: { 204: { description: 'Logged out' }, ...authErrors },
})

const cacheStats = createRoute({
  method: 'get',
  path: '/api/v1/auth/cache-stats',
  tags: ['Auth'],
  summary: 'Token cache statistics (admin, or METRICS_TOKEN)',
  security,
  middleware: [requireAdminOrMetricsToken()] as const,
  responses: {
    200: { description: 'Statistics', content: { 'application/json': { schema: CacheStatsSchema } } },
    ...errorResponses('RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN', 'AUTH_UNAVAILABLE'),
  },
})

const invalidateCache = createRoute({
  method: 'post',
  path: '/api/v1/auth/invalidate-cache',
  tags: ['Auth'],
  summary: "Evict every cached token, or one user's (admin)",
  security,
  middleware: [requireAdmin()] as const,
  request: {
    body: {
      required: false,
      content: { 'application/json': { schema: z.object({ user_id: z.uuid().optional() }).strict() } },
    },
  },
  responses: {
    200: {
      description: 'How many cache entries were evicted',
      content: { 'application/json': { schema: z.object({ evicted: z.number().int() }) } },
    },
    ...errorResponses(
      'RATE_LIMITED',
      'VALIDATION_ERROR',
      'INVALID_JSON',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'AUTH_UNAVAILABLE',
    ),
  },
})

export const authRoutes = createRouter()
  .openapi(me, (c) => {
    const user = currentUser(c)
    return c.json({ user: { id: user.id, email: user.email ?? null, role: user.role } }, 200)
  })
  .openapi(logout, async (c) => {
    await c.get('services').auth.logout(c.req.header('authorization'), currentUser(c))
    return c.body(null, 204)
  })
  .openapi(cacheStats, (c) => c.json(c.get('services').auth.stats(), 200))
  .openapi(invalidateCache, async (c) => {
    const body = c.req.valid('json') as { user_id?: string } | undefined
    return c.json({ evicted: c.get('services').auth.invalidate(body?.user_id) }, 200)
  })
