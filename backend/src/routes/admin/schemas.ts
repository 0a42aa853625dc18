import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'

/** What the routes under `/api/v1/admin` share: admins only. */
export const adminRoute = bearerRoute('Admin', guards(requireAdmin()))

/** The errors every admin-only `/api` route can answer (here, and in auth and rag). */
export const ADMIN_ERRORS = errorCodes('RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN')
