import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorCodes } from '@/lib/http/schemas'

/** Every gamification route: the signed-in user, under their `api` limit. Read-only. */
export const gamificationRoute = bearerRoute('Gamification', guards(requireAuth()))

/** What every gamification route can answer; routes add their own. */
export const GAMIFICATION_ERRORS = errorCodes(
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'AUTH_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
)

export const LevelSchema = z
  .object({
    number: z.number().int().openapi({ description: '1 (0 points) … 11 (5,000 points)' }),
    title: z.string(),
    next_at: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Points of the next level; null at the top' }),
  })
  .openapi('Level')

export const MyGamificationSchema = z
  .object({
    points: z.number().int(),
    level: LevelSchema,
    streak: z.object({
      current: z.number().int().openapi({ description: '0 once a UTC day was missed' }),
      longest: z.number().int(),
      last_active_date: z.string().nullable().openapi({ description: 'YYYY-MM-DD (UTC)' }),
    }),
    badges: z.array(z.object({ key: z.string(), name: z.string(), earned_at: z.string() })),
    recent: z
      .array(z.object({ reason: z.string(), points: z.number().int(), created_at: z.string() }))
      .openapi({
        description:
          'The newest ledger entries, at most 10. Only fully answered assessments earn completion points; a repeat of a pillar earns 50 once per UTC day',
      }),
  })
  .openapi('MyGamification')

export const BadgeSchema = z
  .object({
    key: z.string(),
    name: z.string(),
    description: z.string(),
    rarity: z
      .number()
      .openapi({ description: 'Share of users (every user the server has seen) who hold it, 0..1' }),
  })
  .openapi('Badge')

export const LeaderboardQuerySchema = z
  .object({
    scope: z.enum(['global', 'team']).default('global'),
    team_id: z.uuid().optional(),
    limit: PageQuerySchema.shape.limit,
  })
  .superRefine((query, ctx) => {
    if (query.scope === 'team' && !query.team_id) {
      ctx.addIssue({ code: 'custom', path: ['team_id'], message: 'Required when scope is team' })
    }
  })

export const LeaderboardSchema = z
  .object({
    data: z.array(
      z.object({
        rank: z.number().int().openapi({ description: 'Equal points share a rank (1, 2, 2, 4)' }),
        user_id: z.uuid(),
        display_name: z.string().nullable().openapi({
          description:
            'The name the user chose; null when unset or still the e-mail’s local part (a profile’s first name). Never an e-mail.',
        }),
        points: z.number().int(),
        level: z.number().int(),
      }),
    ),
    me: z.object({ rank: z.number().int(), points: z.number().int() }).nullable(),
  })
  .openapi('Leaderboard')
