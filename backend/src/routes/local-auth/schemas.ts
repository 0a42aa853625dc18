import { z } from '@hono/zod-openapi'
import type { Container } from '@/container'
import { GoTrueError } from '@/routes/local-auth/gotrue-error'
import type { LocalAccountService } from '@/services/accounts/local-accounts'

/** What the /auth/v1 routes share: their tag (errors are GoTrue's, see on-error.ts). */
export const localAuthRoute = { tags: ['Local accounts (/auth/v1)'] }

export const AccountUserSchema = z
  .object({
    id: z.uuid(),
    aud: z.literal('authenticated'),
    role: z.literal('authenticated'),
    email: z.string(),
    email_confirmed_at: z.string(),
    phone: z.string(),
    confirmed_at: z.string(),
    last_sign_in_at: z.string().nullable(),
    app_metadata: z.record(z.string(), z.unknown()),
    user_metadata: z.record(z.string(), z.unknown()),
    identities: z.array(z.unknown()).length(0),
    created_at: z.string(),
    updated_at: z.string(),
    is_anonymous: z.literal(false),
  })
  .openapi('AccountUser')

export const AccountSessionSchema = z
  .object({
    access_token: z.string().openapi({ description: 'HS256 JWT carrying session_id' }),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    expires_at: z.number().int().openapi({ description: 'Epoch seconds' }),
    refresh_token: z.string().openapi({ description: 'Single use: each exchange returns a new one' }),
    user: AccountUserSchema,
  })
  .openapi('AccountSession')

export const GoTrueErrorSchema = z
  .object({
    code: z.union([z.string(), z.number()]),
    message: z.string().optional(),
    error_code: z.string().optional(),
    msg: z.string().optional(),
  })
  .openapi('GoTrueError', {
    description:
      'With X-Supabase-Api-Version ≥ 2024-01-01: {code: "<error code>", message}; else {code: <status>, error_code, msg}',
  })

// The error code each status most often carries (on-error.ts), for the document's examples.
const GOTRUE_EXAMPLES = {
  400: 'validation_failed',
  401: 'no_authorization',
  404: 'user_not_found',
  413: 'request_too_large',
  422: 'weak_password',
  429: 'over_request_rate_limit',
  500: 'unexpected_failure',
  503: 'unexpected_failure',
} as const

/** `responses` entries for GoTrue errors by status. */
export const goTrueErrors = (...statuses: (keyof typeof GOTRUE_EXAMPLES)[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: 'GoTrue error',
        content: {
          'application/json': {
            schema: GoTrueErrorSchema,
            example: { code: GOTRUE_EXAMPLES[status], message: 'What went wrong, in a sentence' },
          },
        },
      },
    ]),
  )

/** Bodies are read leniently, as GoTrue does: fields supabase-js adds (captcha, PKCE) are ignored. */
export const Email = z.string().max(1_000)
export const Password = z.string().max(4_096)

/** The account service; the routes are only mounted when there is one (local auth). */
export function accounts(services: Container): LocalAccountService {
  const service = services.localAccounts
  if (!service) throw new GoTrueError(404, 'not_found', 'Local accounts are off: auth is Supabase')
  return service
}
