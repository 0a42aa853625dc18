import { CodedError } from '@/lib/errors/coded'
import type { ErrorCode } from '@/lib/errors/codes'

export type DomainErrorCode = Extract<
  ErrorCode,
  'NOT_FOUND' | 'CONFLICT' | 'VALIDATION_ERROR' | 'UNAUTHORIZED' | 'FORBIDDEN'
>

/**
 * What services throw when a request cannot be done for a domain reason: the API's error code
 * (the table in codes.ts decides the status) and a message meant for the client. Never an
 * HTTP status or header: services know nothing of HTTP.
 */
export class DomainError extends CodedError {
  constructor(
    override readonly code: DomainErrorCode,
    message: string,
    /** Field-level detail for a VALIDATION_ERROR (e.g. which field was wrong). */
    readonly details?: unknown,
  ) {
    super(code, message, { message, details })
    this.name = 'DomainError'
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`)
export const conflict = (message: string) => new DomainError('CONFLICT', message)
export const invalid = (message: string, details?: unknown) =>
  new DomainError('VALIDATION_ERROR', message, details)
/** The bearer token is missing, malformed, invalid, expired or revoked. */
export const unauthenticated = (message: string) => new DomainError('UNAUTHORIZED', message)
export const forbidden = (message: string) => new DomainError('FORBIDDEN', message)
