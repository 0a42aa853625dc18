/**
 * The single code → status table of API.md. Every error a client sees has one of these codes;
 * the default message is used when the thrower has nothing more specific to say.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, message: 'The request is not valid' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  INTERNAL: { status: 500, message: 'Internal error' },
  UPSTREAM_ERROR: { status: 502, message: 'An upstream service answered with something unusable' },
  LLM_UNAVAILABLE: { status: 503, message: 'No language model provider is available' },
  AUTH_UNAVAILABLE: { status: 503, message: 'The authentication service is unavailable' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unavailable' },
  TIMEOUT: { status: 504, message: 'The request took too long' },
} as const

export type ErrorCode = keyof typeof ERROR_CODES
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]['status']

/** The code a bare HTTP status maps to, for errors raised by Hono or its middleware. */
export function codeForStatus(status: number): ErrorCode {
  const match = (Object.keys(ERROR_CODES) as ErrorCode[]).find((code) => ERROR_CODES[code].status === status)
  if (match) return match
  return status >= 500 ? 'INTERNAL' : 'VALIDATION_ERROR'
}
