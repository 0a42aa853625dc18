import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Errors on /auth/v1 in Supabase Auth's (GoTrue's) shapes, which @supabase/auth-js parses
 * (lib/fetch.ts `handleError`): a request that names API version 2024-01-01 or later in
 * `X-Supabase-Api-Version` (auth-js always does) gets `{code: "<error code>", message}` and the
 * header echoed; an older client `{code: <status>, error_code, msg}`. `weak_password` adds
 * `weak_password: {reasons}`. The header must be exposed to browsers (CORS), or auth-js cannot
 * read the code.
 */
export const API_VERSION_HEADER = 'X-Supabase-Api-Version'
const API_VERSION = '2024-01-01'
const VERSION_FORMAT = /^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/

export class GoTrueError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly weakPasswordReasons?: string[],
  ) {
    super(message)
    this.name = 'GoTrueError'
  }
}

/** Whether the request speaks API version 2024-01-01 or later (the date format auth-js checks). */
function speaks2024(c: Context): boolean {
  const version = c.req.header(API_VERSION_HEADER)
  return version !== undefined && VERSION_FORMAT.test(version) && version >= API_VERSION
}

/** The GoTrue error response; a byte-for-byte function of the error and the API version. */
export function goTrueResponse(c: Context, error: GoTrueError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  const modern = speaks2024(c)
  if (modern) c.header(API_VERSION_HEADER, API_VERSION)
  const weak = error.weakPasswordReasons ? { weak_password: { reasons: error.weakPasswordReasons } } : {}
  const body = modern
    ? { code: error.code, message: error.message, ...weak }
    : { code: error.status, error_code: error.code, msg: error.message, ...weak }
  return c.json(body, error.status as ContentfulStatusCode)
}
