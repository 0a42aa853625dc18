import type { MiddlewareHandler } from 'hono'
import type { AuthUser } from '@/lib/auth/types'
import type { HttpEnv } from '@/lib/http/context'
import { endpointPattern } from '@/lib/http/route'
import type { Logger } from '@/lib/log'
import type { Metrics } from '@/lib/metrics/metrics'

/**
 * Records each request in the metrics and writes one structured line per request: time, level, request_id, method, route pattern, status,
 * duration_ms and, once auth has run, a hash of the user id. Never headers, never a token.
 */
export function accessLog(
  logger: Logger,
  metrics?: Metrics,
): MiddlewareHandler<HttpEnv & { Variables: { user?: AuthUser } }> {
  return async function accessLog(c, next) {
    const started = performance.now()
    await next()
    const status = c.res.status
    const elapsed = performance.now() - started
    // The pattern, not the raw path, so lines group by endpoint and ids stay out of logs.
    const route = endpointPattern(c) ?? 'unmatched'
    metrics?.observeHttp(route, c.req.method, status, elapsed / 1000)
    const line = {
      request_id: c.get('requestId'),
      method: c.req.method,
      route,
      status,
      duration_ms: Math.round(elapsed * 100) / 100,
      user: c.get('user')?.idHash,
    }
    if (status >= 500) logger.error(line, 'request')
    // 499: the client hung up — its choice, not a problem with its request.
    else if (status >= 400 && status !== 499) logger.warn(line, 'request')
    else logger.info(line, 'request')
  }
}
