import { z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'

/** What the routes under `/api/v1/admin` share: admins only. */
export const adminRoute = bearerRoute('Admin', guards(requireAdmin()))

/** The errors every admin-only `/api` route can answer (here, and in auth and rag). */
export const ADMIN_ERRORS = errorCodes('RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN')

/** A user as an operator sees them. */
export const AdminUserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    display_name: z.string().nullable(),
    role: z
      .enum(['admin', 'user'])
      .openapi({ description: 'The profile role (app_metadata.role admin also makes an admin)' }),
    created_at: z.string(),
    last_seen_at: z.string().nullable(),
  })
  .openapi('AdminUser')
