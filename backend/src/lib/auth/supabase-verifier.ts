import {
  AuthApiError,
  AuthSessionMissingError,
  isAuthApiError,
  isAuthSessionMissingError,
  type SupabaseClient,
} from '@supabase/supabase-js'
import { decodeJwt } from 'jose'
import { identityFromClaims } from '@/lib/auth/local-verifier'
import { serverSupabaseClient } from '@/lib/auth/supabase-client'
import {
  AuthUnavailableError,
  type AuthUser,
  type TokenVerifier,
  type VerifiedIdentity,
  type VerifyOutcome,
} from '@/lib/auth/types'
import { Breaker, BreakerOpenError, type BreakerThresholds } from '@/lib/breaker'
import type { JwtClaims } from '@/lib/db/database'
import type { Logger } from '@/lib/log'

export interface SupabaseVerifierOptions {
  url: string
  /** The anon key is enough for `getUser`; the service role key works too. */
  apiKey: string
  /** Per-call deadline; a slower auth server counts as a failure. */
  timeoutMs: number
  breaker: BreakerThresholds
}

class InvalidToken {
  constructor(readonly reason: string) {}
}

// GoTrue's own codes for "this token is no good". Anything else — including a 401 from the API
// gateway for a wrong or rotated API key — is a problem on our side or theirs, not the user's.
const INVALID_TOKEN_CODES = new Set([
  'bad_jwt',
  'session_not_found',
  'user_not_found',
  'no_authorization',
  'session_expired',
])

/**
 * True only when Supabase Auth said "this token is not valid": GoTrue's codes above, or (older
 * GoTrue, without codes) a 401/403 whose message is about the JWT. Everything else (network,
 * timeout, 5xx, 429, a bad API key, an unreadable answer) means we could not find out.
 */
function isInvalidTokenAnswer(error: unknown): boolean {
  if (error instanceof AuthSessionMissingError || isAuthSessionMissingError(error)) return true
  if (error instanceof AuthApiError || isAuthApiError(error)) {
    const { status, code, message } = error as AuthApiError
    if (code && INVALID_TOKEN_CODES.has(code)) return true
    return (
      (status === 401 || status === 403) &&
      !code &&
      /jwt|token|expired/i.test(message) &&
      !/api key/i.test(message)
    )
  }
  return false
}

/**
 * Supabase mode: `auth.getUser(token)` through supabase-js — authoritative, sees revoked
 * sessions. The call sits behind its own opossum breaker so an auth outage fails fast.
 */
export class SupabaseVerifier implements TokenVerifier {
  readonly mode = 'supabase'
  readonly #client: SupabaseClient
  readonly #breaker: Breaker<[string], VerifiedIdentity | InvalidToken>

  constructor(options: SupabaseVerifierOptions, logger: Logger) {
    this.#client = serverSupabaseClient(options.url, options.apiKey, options.timeoutMs)
    this.#breaker = new Breaker(
      (token: string) => this.#getUser(token),
      {
        ...options.breaker,
        name: 'supabase-auth',
        timeoutMs: options.timeoutMs + 500,
      },
      logger,
    )
  }

  async verify(token: string): Promise<VerifyOutcome> {
    let answer: VerifiedIdentity | InvalidToken
    try {
      answer = await this.#breaker.fire(token)
    } catch (error) {
      if (error instanceof BreakerOpenError) {
        throw new AuthUnavailableError(
          'auth circuit open',
          Math.max(1, Math.ceil(error.retryAfterMs / 1000)),
          {
            cause: error,
          },
        )
      }
      throw new AuthUnavailableError('auth server unavailable', 5, { cause: error })
    }
    if (answer instanceof InvalidToken) return { ok: false, reason: answer.reason }
    return { ok: true, identity: answer }
  }

  /** Revokes this session at Supabase Auth (`POST /logout?scope=local`). */
  async revoke(token: string, _user: Pick<AuthUser, 'id' | 'sessionId' | 'claims'>): Promise<void> {
    const { error } = await this.#client.auth.admin.signOut(token, 'local')
    // Already gone is fine; anything else means the session may still be alive upstream.
    if (error && !isInvalidTokenAnswer(error)) {
      throw new AuthUnavailableError('could not revoke the session', 5, { cause: error })
    }
  }

  health() {
    return { upstream: this.#breaker.state() }
  }

  breakerStats() {
    return this.#breaker.stats()
  }

  // Resolves for both answers the server gave (valid or invalid) and throws only when it could
  // not answer, so only real outages count against the breaker.
  async #getUser(token: string): Promise<VerifiedIdentity | InvalidToken> {
    const { data, error } = await this.#client.auth.getUser(token)
    if (error) {
      if (isInvalidTokenAnswer(error)) return new InvalidToken(error.code ?? `status ${error.status}`)
      throw error
    }
    const user = data.user
    if (!user?.id) throw new Error('auth server answered without a user')
    // Supabase verified the token; its payload still tells us when it expires and its session.
    let claims: JwtClaims
    try {
      claims = decodeJwt(token) as JwtClaims
    } catch {
      claims = { sub: user.id }
    }
    const identity = identityFromClaims({ ...claims, sub: user.id, email: user.email ?? claims.email })
    return {
      ...identity,
      appRole: typeof user.app_metadata?.role === 'string' ? user.app_metadata.role : undefined,
    }
  }
}
