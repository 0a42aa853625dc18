import type { MiddlewareHandler } from 'hono'
import { cors as honoCors } from 'hono/cors'
import type { HttpEnv } from '@/lib/http/context'

export interface CorsOptions {
  /** Allowed origins, or `['*']`. */
  origins: string[]
}

// ETag: the SPA sends it back as If-None-Match (content) and may read it.
const EXPOSE = [
  'X-Request-Id',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'ETag',
]

/**
 * CORS for the SPA. Preflights (OPTIONS) are answered by Hono's cors middleware. For actual
 * requests the two headers (and `Vary: Origin`) are written with `c.header` *before* the
 * handler, onto the headers the answer will be built from — as `requestId` writes
 * X-Request-Id — so the layer adds no promise and no work after the handler. (Hono's own
 * middleware writes them onto a stand-in response instead, which Hono then has to copy into
 * the real one: measured at about a third of a cached `/auth/me` request's cost.) A handler
 * that sets `Vary` itself must append to it.
 */
export function cors({ origins }: CorsOptions): MiddlewareHandler<HttpEnv> {
  const anyOrigin = origins.includes('*')
  const allowed = new Set(origins)
  const exposeHeaders = EXPOSE.join(',')
  const preflight = honoCors({
    origin: anyOrigin ? '*' : origins,
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'X-Request-Id'],
    exposeHeaders: EXPOSE,
    maxAge: 600,
  })
  // Not async: on the way in only (see above).
  return function cors(c, next) {
    if (c.req.method === 'OPTIONS') return preflight(c, next)
    const origin = c.req.header('origin')
    if (origin !== undefined && (anyOrigin || allowed.has(origin))) {
      c.header('Access-Control-Allow-Origin', anyOrigin ? '*' : origin)
      c.header('Access-Control-Expose-Headers', exposeHeaders)
    }
    // The answer depends on Origin, so shared caches must key on it.
    if (!anyOrigin) c.header('Vary', 'Origin', { append: true })
    return next()
  }
}
