import type { BreakerStats } from '@/lib/breaker'
import type { JwtClaims } from '@/lib/db/database'
import { UnavailableError } from '@/lib/errors/unavailable'

export type Role = 'admin' | 'user'

/** What a verifier learned from a token it accepted. */
export interface VerifiedIdentity {
  userId: string
  email: string | undefined
  /** `app_metadata.role`: server-controlled, unlike `user_metadata`, which the user can edit. */
  appRole: string | undefined
  sessionId: string | undefined
  /** The token's own `exp`, in epoch milliseconds; the cache never serves the token past it. */
  expiresAt: number | undefined
  /** The claims per-user SQL runs with (`request.jwt.claims`). */
  claims: JwtClaims
}

/** The authenticated user on the request context. */
export interface AuthUser {
  id: string
  email: string | undefined
  role: Role
  sessionId: string | undefined
  claims: JwtClaims
  /** `hashUserId(id)`, computed once per cache fill for logs and traces. */
  idHash: string
}

export type VerifyOutcome = { ok: true; identity: VerifiedIdentity } | { ok: false; reason: string }

/**
 * Decides whether a bearer token is valid. Answers `{ok: false}` for a token that is invalid,
 * and throws `AuthUnavailableError` when it cannot tell (the auth server is down or failing):
 * the two must never be confused, because a 401 logs the user out of the SPA.
 */
export interface TokenVerifier {
  readonly mode: 'local' | 'supabase'
  verify(token: string): Promise<VerifyOutcome>
  /** Ends the token's session so the token is refused from now on, even by a fresh cache. */
  revoke(token: string, identity: Pick<AuthUser, 'id' | 'sessionId' | 'claims'>): Promise<void>
  /** Breaker state of the upstream, where there is one. */
  health(): { upstream: 'none' | 'closed' | 'open' | 'half_open' }
  /** Breaker counters, where there is a breaker. */
  breakerStats?(): BreakerStats
}

/** The auth server could not be asked; the request gets 503 AUTH_UNAVAILABLE, never 401. */
export class AuthUnavailableError extends UnavailableError {
  constructor(message: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super('AUTH_UNAVAILABLE', message, retryAfterSeconds, options)
    this.name = 'AuthUnavailableError'
  }
}

/** A request's user, and whether it came from the token cache without any verification. */
export interface Authenticated {
  user: AuthUser
  cached: boolean
}

/**
 * Bearer header → user, for the auth middleware (AuthService implements it). The header is
 * parsed and hashed once. A cached token is answered synchronously; on a miss `enter` is awaited
 * first — it may wait for a slot, or throw to refuse the request — and the release it returns
 * is called once the verification has ended; a promise is returned. Throws a DomainError
 * UNAUTHORIZED for a missing, malformed or refused token, AuthUnavailableError when the
 * verifier cannot tell.
 */
export interface Authenticator {
  /**
   * `local`: verifying a token is a signature check in this process; `supabase`: a cache miss
   * costs a call to the auth server.
   */
  readonly mode: 'local' | 'supabase'
  authenticate(
    header: string | undefined,
    enter?: () => Promise<() => void>,
  ): Authenticated | Promise<Authenticated>
}
