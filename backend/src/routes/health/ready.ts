import { createRoute, z } from '@hono/zod-openapi'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'

const CheckStatus = z.enum(['ok', 'error'])
const ReadySchema = z
  .object({
    status: z.enum(['ready', 'degraded', 'not_ready']),
    checks: z.object({
      database: z.object({
        status: CheckStatus,
        kind: z.enum(['embedded', 'postgres']),
        latency_ms: z.number().optional(),
        error: z.string().optional(),
      }),
      migrations: z.object({ status: CheckStatus, applied: z.number().int(), pending: z.array(z.string()) }),
      auth: z.object({
        status: CheckStatus,
        mode: z.enum(['local', 'supabase']),
        breaker: z.enum(['closed', 'open', 'half_open']).optional(),
      }),
      embeddings: z.object({
        status: CheckStatus,
        provider: z.enum(['local', 'openai']),
        model: z.string(),
        breaker: z.enum(['closed', 'open', 'half_open']).optional(),
        stored_models: z.array(z.string()),
        problem: z.string().optional(),
        pending: z.number().int().optional().openapi({
          description: 'Chunks stored without a vector, found by full text until the backfill embeds them',
        }),
      }),
      llm: z.object({
        status: CheckStatus,
        providers: z.array(z.object({ name: z.string(), state: z.enum(['closed', 'open', 'half_open']) })),
      }),
      rate_limits: z.object({
        status: CheckStatus,
        store: z.enum(['memory', 'redis', 'off']),
        redis: z.enum(['connected', 'disconnected']).optional(),
      }),
    }),
    shutting_down: z.boolean(),
  })
  .openapi('Ready')

const route = createRoute({
  operationId: 'ready',
  method: 'get',
  path: '/ready',
  tags: ['Operations'],
  summary: 'Readiness: database reachable, migrations applied, not shutting down',
  // Public, and it probes the database (at most once a second, see READINESS_CACHE_MS): limited
  // per address (the `anon` limit, in a namespace of its own, so a balancer's probes never
  // compete with anonymous API traffic).
  middleware: guards(rateLimit({ policy: 'ready', key: 'ip' })),
  responses: {
    200: jsonResponse(ReadySchema, 'Ready to serve'),
    503: jsonResponse(ReadySchema, 'Not ready, or shutting down'),
    ...errorResponses('RATE_LIMITED'),
  },
})

export const registerReady = (router: Router) =>
  router.openapi(route, async (c) => {
    const report = await c.get('services').readiness.check()
    c.header('Cache-Control', 'no-store')
    return c.json(report, report.status === 'not_ready' ? 503 : 200)
  })
