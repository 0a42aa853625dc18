import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { ModeSchema, PillarIdSchema } from '@/routes/pilar-schemas'

/** Every team route: the signed-in user's `api` limit; membership is checked by the service. */
export const teamRoute = bearerRoute('Teams', guards(requireAuth()))

/** What every team route can answer; routes add NOT_FOUND, FORBIDDEN, CONFLICT as they apply. */
export const TEAM_ERRORS = errorCodes('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED', 'AUTH_UNAVAILABLE')

/** What a route with a JSON body can answer besides its own errors. */
export const BODY_ERRORS = errorCodes('INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE')

const pathId = (name: string) => z.uuid().openapi({ param: { name, in: 'path' } })
export const TeamParams = z.object({ id: pathId('id') })
export const MemberParams = z.object({ id: pathId('id'), user_id: pathId('user_id') })
export const InvitationParams = z.object({ id: pathId('id'), invitation_id: pathId('invitation_id') })
/** An invitation addressed to the caller, under /api/v1/invitations. */
export const MyInvitationParams = z.object({ id: pathId('id') })
export const RoundParams = z.object({ id: pathId('id'), round_id: pathId('round_id') })

export const TeamRole = z.enum(['owner', 'admin', 'member'])

export const TeamSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    owner_id: z.uuid(),
    member_count: z.number().int(),
    my_role: TeamRole,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Team')

export const TeamName = freeText({ min: 1, max: 100 })
export const TeamDescription = freeText({ min: 0, max: 2_000 }).nullable()

export const MemberSchema = z
  .object({ user_id: z.uuid(), display_name: z.string().nullable(), role: TeamRole, joined_at: z.string() })
  .openapi('TeamMember')

export const InvitationSchema = z
  .object({
    id: z.uuid(),
    team_id: z.uuid(),
    email: z.string(),
    role: z.enum(['admin', 'member']),
    status: z.enum(['pending', 'accepted', 'declined', 'expired']),
    invited_by: z.uuid().nullable(),
    expires_at: z.string(),
    created_at: z.string(),
  })
  .openapi('TeamInvitation')

export const RoundSchema = z
  .object({
    id: z.uuid(),
    team_id: z.uuid(),
    name: z.string(),
    pillar_id: PillarIdSchema,
    mode: ModeSchema,
    status: z.enum(['open', 'closed']),
    created_by: z.uuid().nullable(),
    closes_at: z.string().nullable(),
    participants: z.number().int().openapi({ description: 'Members who started their assessment' }),
    completed: z.number().int(),
    created_at: z.string(),
    closed_at: z.string().nullable(),
  })
  .openapi('TeamRound')

const Stat = z.number()
export const RoundAggregateSchema = z
  .object({
    n: z.number().int(),
    pillar: z.object({
      mean: Stat,
      sd: Stat.nullable().openapi({
        description: 'Null below 4 completions: with 3 it gives the others’ scores away',
      }),
      min: Stat.nullable().openapi({
        description: 'Null below 5 completions: the lowest score is one member’s',
      }),
      max: Stat.nullable().openapi({
        description: 'Null below 5 completions: the highest score is one member’s',
      }),
    }),
    forces: z.record(
      z.string(),
      z.object({
        n: z.number().int(),
        mean: Stat,
        sd: Stat.nullable(),
        consensus: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .openapi({ description: '1 − sd/50; null below 4 answers' }),
      }),
    ),
  })
  .openapi('TeamRoundAggregate', {
    description:
      'Population statistics over completed assessments; a force answered by fewer than min_completed is left out',
  })

/** A page of `item`: `{data, next_cursor}`. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() })
