import { ERROR_CODES, type ErrorCode } from '@/lib/errors/codes'

export interface ApiErrorOptions {
  /** Shown to the client: keep it human and free of internals. Defaults to the code's message. */
  message?: string
  /** Structured detail for the client, e.g. the list of field issues of a VALIDATION_ERROR. */
  details?: unknown
  /** Extra response headers such as `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>
  /** The underlying error, logged server-side and never sent to the client. */
  cause?: unknown
}

/** The one error type routes and middleware throw; `app.onError` turns it into the API.md body. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: unknown
  readonly headers: Record<string, string>

  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    super(options.message ?? ERROR_CODES[code].message, { cause: options.cause })
    this.name = 'ApiError'
    this.code = code
    this.status = ERROR_CODES[code].status
    this.details = options.details
    this.headers = options.headers ?? {}
  }
}

/** The error body of API.md. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; request_id: string; details?: unknown }
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message, request_id: requestId } }
  if (error.details !== undefined) body.error.details = error.details
  return body
}
