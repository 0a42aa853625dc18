import type { MiddlewareHandler } from 'hono'
import type { MaybeAuthEnv } from '@/lib/http/auth'
import type { AppEnv } from '@/routes/router'

/**
 * Writes that are not activity: deleting one's account and logging out (noting them would
 * recreate rows for a user who is going, or just left), and writes that note their own activity
 * in their own transaction (an event batch).
 */
const NOT_ACTIVITY = new Set(['DELETE /api/v1/users/me', 'POST /api/v1/auth/logout', 'POST /api/v1/events'])

/**
 * Daily activity for every successful (2xx) authenticated write: after the handler, once per
 * user and UTC day (the ledger remembers which it noted). The user is whoever the route's own
 * auth middleware verified; an anonymous or refused request notes nothing. Never fails the
 * request: the ledger logs what went wrong.
 */
export function noteWriteActivity(): MiddlewareHandler<AppEnv & MaybeAuthEnv> {
  return async function noteWriteActivity(c, next) {
    await next()
    const user = c.get('user')
    if (!user || c.res.status < 200 || c.res.status >= 300) return
    if (NOT_ACTIVITY.has(`${c.req.method} ${c.req.path}`)) return
    await c.get('services').ledger.noteWrite(user.id)
  }
}
