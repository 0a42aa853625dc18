import type { MetricsAccessOptions } from '@/lib/http/auth'
import { registerGetAuthCacheStats } from '@/routes/auth/cache-stats'
import { registerInvalidateAuthCache } from '@/routes/auth/invalidate-cache'
import { registerLogout } from '@/routes/auth/logout'
import { registerGetMe } from '@/routes/auth/me'
import { createRouter } from '@/routes/router'

/** The caller's identity and session; cache statistics also admit a METRICS_TOKEN scraper. */
export function authRoutes(access: MetricsAccessOptions) {
  const router = createRouter()
  // Registration order is route-matching order: keep it.
  registerGetMe(router)
  registerLogout(router)
  registerGetAuthCacheStats(router, access)
  registerInvalidateAuthCache(router)
  return router
}
