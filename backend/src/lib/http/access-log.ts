import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { AppEnv } from '@/lib/http/context'
import type { Logger } from '@/lib/log'

/** The route pattern (`/api/v1/assessments/:id`), not the raw path, so logs group and ids stay out. */
export function routePattern(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  // Middleware is registered with method ALL; the last other match is the endpoint itself,
  // found even when a middleware rejected the request before the handler ran.
  return matchedRoutes(c).findLast((route) => route.method !== 'ALL')?.path ?? 'unmatched'
}

/**
 * One structured line per request: time, level, request_id, method, route pattern, status,
 * duration_ms and, once auth has run, a hash of the user id. Never headers, never a token.
 */
export function accessLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async function accessLog(c, next) {
    const started = performance.now()
    await next()
    const status = c.res.status
    const line = {
      request_id: c.var.requestId,
      method: c.req.method,
      route: routePattern(c),
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      user: c.var.userIdHash,
    }
    if (status >= 500) logger.error(line, 'request')
    else if (status >= 400) logger.warn(line, 'request')
    else logger.info(line, 'request')
  }
}
