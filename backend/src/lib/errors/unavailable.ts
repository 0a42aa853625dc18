import { CodedError } from '@/lib/errors/coded'
import type { ErrorCode } from '@/lib/errors/codes'

/**
 * Something we depend on cannot serve the request right now (a language model provider, the
 * auth server, the embedder, the database). Each kind names its API code and how long a client
 * should wait, so every one becomes a 503 with `Retry-After` through the same mapping.
 */
export class UnavailableError extends CodedError {
  constructor(
    override readonly code: Extract<
      ErrorCode,
      'LLM_UNAVAILABLE' | 'AUTH_UNAVAILABLE' | 'DATABASE_UNAVAILABLE'
    >,
    message: string,
    /** Whole seconds, ≥ 1. */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown; publicMessage?: string },
  ) {
    super(code, message, { message: options?.publicMessage, retryAfterSeconds }, options)
    this.name = 'UnavailableError'
  }
}
