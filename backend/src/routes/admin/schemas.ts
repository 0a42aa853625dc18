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

const Instant = (description: string) =>
  z
    .union([z.iso.datetime({ offset: true }), z.iso.date()])
    .optional()
    .openapi({ description })

/** The analytics window, [from, to); defaults and limits in services/admin/analytics.ts. */
export const AnalyticsQuerySchema = z.object({
  from: Instant('Start, inclusive (ISO 8601 date-time or date, UTC); default: 30 days before `to`'),
  to: Instant('End, exclusive; default: now. At most 366 days after `from`'),
})

const count = z.number().int().nonnegative()

/** The platform report: every figure an SQL aggregate over stored rows (docs/operations.md). */
export const AnalyticsReportSchema = z
  .object({
    users: z.object({
      total: count.openapi({ description: 'Profiles created before `to`' }),
      active_1d: count.openapi({ description: 'Last seen within the day before `to`' }),
      active_7d: count,
      active_30d: count,
    }),
    assessments: z.object({
      started: count,
      completed: count,
      completion_rate: z
        .number()
        .openapi({ description: 'Share of the assessments started in the window completed by `to`' }),
      by_pillar: z.array(
        z.object({
          pillar_id: z.string(),
          mode: z.string(),
          completed: count,
          mean_score: z.number().openapi({ description: 'Mean overall (pillar) score, 0..100' }),
        }),
      ),
    }),
    ai: z.object({
      requests: count.openapi({ description: 'Provider calls (each attempt, failed ones included)' }),
      failovers: count.openapi({
        description: 'Attempts made after an earlier attempt of the same call failed',
      }),
      by_provider: z.array(
        z.object({
          provider: z.string(),
          model: z.string(),
          requests: count,
          input_tokens: count,
          output_tokens: count,
        }),
      ),
    }),
    events: z.object({ by_type: z.array(z.object({ type: z.string(), count })) }),
  })
  .openapi('AnalyticsReport')
