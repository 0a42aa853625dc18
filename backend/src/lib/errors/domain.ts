import type { ErrorCode } from '@/lib/errors/codes'

export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid'

/**
 * What services throw when a request cannot be done for a domain reason. Services know
 * nothing of HTTP; `app.onError` maps the kind to the API error code.
 */
export class DomainError extends Error {
  readonly retryable = false

  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** Field-level detail for `invalid` (e.g. which field was wrong). */
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'DomainError'
  }
}

export const DOMAIN_ERROR_CODES: Record<DomainErrorKind, ErrorCode> = {
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid: 'VALIDATION_ERROR',
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`)
export const conflict = (message: string) => new DomainError('conflict', message)
export const invalid = (message: string, details?: unknown) => new DomainError('invalid', message, details)
