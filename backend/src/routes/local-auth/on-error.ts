import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { isDatabaseUnavailable } from '@/lib/db/errors'
import { ApiError } from '@/lib/errors/api-error'
import { toApiError } from '@/lib/errors/handler'
import type { HttpEnv } from '@/lib/http/context'
import { GoTrueError, goTrueResponse } from '@/routes/local-auth/gotrue-error'
import { AccountError, type AccountErrorReason } from '@/services/accounts/local-accounts'

const STATUS: Record<AccountErrorReason, number> = {
  validation_failed: 400,
  weak_password: 422,
  user_already_exists: 422,
  invalid_credentials: 400,
  refresh_token_not_found: 400,
  refresh_token_already_used: 400,
  user_not_found: 404,
}

/** Any error as GoTrue would answer it; what is not ours is a plain 500 (logged by the caller). */
export function toGoTrueError(err: unknown, hasAuthorization: boolean): GoTrueError | undefined {
  if (err instanceof GoTrueError) return err
  if (err instanceof AccountError) {
    return new GoTrueError(STATUS[err.reason], err.reason, err.message, {}, err.reasons)
  }
  if (err instanceof HTTPException && err.status === 400) {
    return new GoTrueError(400, 'bad_json', 'Could not parse request body as JSON')
  }
  const api = err instanceof ApiError ? err : toApiError(err)
  switch (api.code) {
    case 'VALIDATION_ERROR':
      return new GoTrueError(400, 'validation_failed', describe(api), api.headers)
    case 'INVALID_JSON':
      return new GoTrueError(400, 'bad_json', 'Could not parse request body as JSON')
    case 'UNSUPPORTED_MEDIA_TYPE':
      return new GoTrueError(400, 'validation_failed', api.message)
    case 'PAYLOAD_TOO_LARGE':
      return new GoTrueError(413, 'request_too_large', api.message)
    case 'UNAUTHORIZED':
      return hasAuthorization
        ? new GoTrueError(
            401,
            'bad_jwt',
            'invalid JWT: the token is invalid, expired or revoked',
            api.headers,
          )
        : new GoTrueError(401, 'no_authorization', 'This endpoint requires a valid Bearer token', api.headers)
    case 'RATE_LIMITED':
      return new GoTrueError(429, 'over_request_rate_limit', 'Request rate limit reached', api.headers)
    case 'AUTH_UNAVAILABLE':
    case 'DATABASE_UNAVAILABLE':
      return new GoTrueError(503, 'unexpected_failure', api.message, api.headers)
    default:
      return undefined
  }
}

// A zod failure's first field issue, e.g. "email: Required", in GoTrue's one-line style.
function describe(error: ApiError): string {
  const details = error.details as { field: string; message: string }[] | undefined
  const first = details?.[0]
  return first ? `${first.field.replace(/^(body|query)\./, '')}: ${first.message}` : error.message
}

/** The /auth/v1 router's `onError`: GoTrue bodies, never a stack trace or a raw database message. */
export function handleGoTrueError<E extends HttpEnv>(err: Error, c: Context<E>) {
  const known = toGoTrueError(err, c.req.header('authorization') !== undefined)
  const unavailable = isDatabaseUnavailable(err)
  if (!known || unavailable) {
    c.get('http')?.logger.error(
      { request_id: c.get('requestId'), err },
      unavailable ? 'database unavailable' : 'unhandled error',
    )
  }
  return goTrueResponse(
    c,
    known ??
      new GoTrueError(
        500,
        'unexpected_failure',
        'Unexpected failure, please check server logs for more information',
      ),
  )
}
