import type { Context } from 'hono'
import { matchedRoutes } from 'hono/route'

/**
 * The endpoint a request matched (`/api/v1/assessments/:id`), or undefined when only
 * middleware matched (an unknown route). Middleware is mounted on wildcard paths (`*`,
 * `/api/*`); endpoints never are. Found even when a middleware rejects the request first.
 */
export function endpointPattern(c: Context): string | undefined {
  return matchedRoutes(c).findLast((route) => !route.path.endsWith('*'))?.path
}
