import type { ErrorCode } from '@/lib/errors/codes'

/** What of a coded error a client may see. */
export interface Exposed {
  /** Shown to the client; the code's default message when unset. */
  message?: string
  details?: unknown
  /** Sent as `Retry-After` (whole seconds). */
  retryAfterSeconds?: number
}

/**
 * The base of every error we raise on purpose below the HTTP layer: it names its API error
 * code, and says what of it a client may see (its own `message` is for the log). `toApiError`
 * maps any of them in one branch, so a new kind of error needs a class, not a handler change.
 */
export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly exposed: Exposed = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'CodedError'
  }
}
