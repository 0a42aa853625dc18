import type { MetricsAccessOptions } from '@/lib/http/auth'
import { registerGetPlatformAnalytics } from '@/routes/admin/analytics'
import { registerCleanupSessions } from '@/routes/admin/cleanup-sessions'
import { registerGetMetrics } from '@/routes/admin/metrics'
import { registerGetAdminStats } from '@/routes/admin/stats'
import { registerListUsers } from '@/routes/admin/users-list'
import { registerSetUserRole } from '@/routes/admin/users-update'
import { createRouter } from '@/routes/router'

/** Operator routes; `/metrics` also admits a scraper holding METRICS_TOKEN. */
export function adminRoutes(access: MetricsAccessOptions) {
  const router = createRouter()
  // Registration order is route-matching order: keep it.
  registerCleanupSessions(router)
  registerGetPlatformAnalytics(router)
  registerGetAdminStats(router)
  registerGetMetrics(router, access)
  registerListUsers(router)
  registerSetUserRole(router)
  return router
}
