import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import type { Router } from '@/routes/router'

const HealthSchema = z
  .object({ status: z.literal('ok'), version: z.string(), uptime_s: z.number().int() })
  .openapi('Health')

const route = createRoute({
  operationId: 'health',
  method: 'get',
  path: '/health',
  tags: ['Operations'],
  summary: 'Liveness: the process is up (touches no dependency)',
  responses: { 200: jsonResponse(HealthSchema, 'Alive') },
})

export const registerHealth = (router: Router) =>
  router.openapi(route, (c) => {
    const { version, lifecycle } = c.get('services')
    return c.json({ status: 'ok' as const, version, uptime_s: lifecycle.uptimeSeconds() }, 200)
  })
