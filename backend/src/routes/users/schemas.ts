import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { hasUnstorable, storableJson } from '@/lib/text'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'

/** Every /users route: the signed-in user's own account, under their `api` limit. */
export const userRoute = bearerRoute('Users', guards(requireAuth()))

/** What every /users route can answer; routes add their own. */
export const USER_ERRORS = errorCodes(
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'AUTH_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
)

/** What a route with a JSON body can answer besides its own errors. */
export const BODY_ERRORS = errorCodes(
  'VALIDATION_ERROR',
  'INVALID_JSON',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
)

export const ProfileSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    display_name: z.string().nullable(),
    bio: z.string().nullable(),
    avatar_url: z.string().nullable(),
    position: z.string().nullable(),
    goal: z.string().nullable(),
    preferences: z.record(z.string(), z.unknown()),
    role: z.enum(['user', 'admin']),
    leaderboard_opt_in: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Profile')

/** Preferences: a JSON object of at most 8 KiB as JSON text (UTF-8 bytes). */
export const PREFERENCES_MAX_BYTES = 8_192
const PREFERENCES_MAX_DEPTH = 32

const Preferences = z
  .record(z.string(), z.unknown())
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= PREFERENCES_MAX_BYTES, {
    message: `must be at most ${PREFERENCES_MAX_BYTES} bytes as JSON`,
  })
  .refine((value) => storableJson(value, PREFERENCES_MAX_DEPTH), {
    message: `must not contain NUL characters or unpaired surrogates, nor nest deeper than ${PREFERENCES_MAX_DEPTH}`,
  })
  .openapi({ description: 'Any JSON object of at most 8 KiB (serialized); replaced as a whole' })

/** https only (the SPA puts it in an <img src>): `javascript:`, `http:`, `data:` are refused. */
const AvatarUrl = z
  .url({ protocol: /^https$/, hostname: z.regexes.domain })
  .max(2_048)
  .refine((value) => /^https:\/\/[^\s/?#]+/.test(value) && !hasUnstorable(value), 'must be an https URL')
  .nullable()

export const ProfilePatchSchema = z
  .object({
    display_name: freeText({ min: 1, max: 80 }).optional(),
    bio: freeText({ min: 0, max: 2_000 }).nullable().optional(),
    avatar_url: AvatarUrl.optional(),
    position: freeText({ min: 0, max: 120 }).nullable().optional(),
    goal: freeText({ min: 0, max: 500 }).nullable().optional(),
    preferences: Preferences.optional(),
    leaderboard_opt_in: z.boolean().optional(),
  })
  // Unknown keys — and role, email, id, which no user may set — are a 400, never ignored.
  .strict()
  .openapi('ProfilePatch')

const Score = z.number().min(0).max(100)

export const ProgressSchema = z
  .object({
    pillars: z.array(
      z.object({
        pillar_id: PillarIdSchema,
        mode: ModeSchema,
        completed_count: z.number().int(),
        latest_score: Score,
        best_score: Score,
        last_completed_at: z.string(),
        history: z
          .array(z.object({ assessment_id: z.uuid(), completed_at: z.string(), score: Score }))
          .openapi({ description: 'At most 10, newest first' }),
      }),
    ),
    totals: z.object({
      completed: z.number().int(),
      in_progress: z.number().int(),
      pillars_covered: z.number().int(),
      modes_covered: z.number().int(),
    }),
  })
  .openapi('Progress')
