import { parseBearer, tokenKey } from '@/lib/auth/bearer'
import type { Revocation, RevocationBus } from '@/lib/auth/revocation-bus'
import { TokenCache, type TokenCacheStats } from '@/lib/auth/token-cache'
import {
  AuthUnavailableError,
  type AuthUser,
  type TokenVerifier,
  type VerifiedIdentity,
} from '@/lib/auth/types'
import type { Database } from '@/lib/db/database'
import { ApiError } from '@/lib/errors/api-error'
import { hashUserId, type Logger } from '@/lib/log'

export interface AuthServiceOptions {
  ttlMs: number
  maxEntries: number
  /**
   * True when `auth.users` is the minimal table our bootstrap made (embedded database, plain
   * Postgres): then we add users to it ourselves. On Supabase, Supabase Auth owns it.
   */
  ownsAuthUsers: boolean
  /** Tells other instances about logouts and invalidations (Redis pub/sub), if there are any. */
  bus?: RevocationBus
}

const UNAUTHORIZED_HEADERS = { 'WWW-Authenticate': 'Bearer error="invalid_token"' }

export function unauthorized(message: string): ApiError {
  return new ApiError('UNAUTHORIZED', { message, headers: UNAUTHORIZED_HEADERS })
}

function acceptedOrThrow(user: AuthUser | null): AuthUser {
  if (!user) throw unauthorized('The bearer token is invalid, expired or revoked')
  return user
}

/**
 * Authentication for every request: bearer token → cached, verified user (with a profile row
 * and a server-controlled role), plus logout, invalidation and cache statistics.
 */
export class AuthService {
  readonly cache: TokenCache

  constructor(
    readonly verifier: TokenVerifier,
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: AuthServiceOptions,
  ) {
    this.cache = new TokenCache(verifier, (identity) => this.#toUser(identity), {
      ttlMs: options.ttlMs,
      maxEntries: options.maxEntries,
    })
    options.bus?.subscribe(
      (revocation) => this.#applyRevocation(revocation),
      () => {
        // Revocations sent while we were not listening are lost: distrust everything cached.
        const dropped = this.cache.evictUser()
        this.logger.info({ dropped }, 'revocation channel reconnected: token cache cleared')
      },
    )
  }

  #applyRevocation(revocation: Revocation) {
    if (revocation.kind === 'token') this.cache.evictKey(revocation.key)
    else if (revocation.kind === 'user') this.cache.evictUserHash(revocation.userHash)
    else this.cache.evictUser()
  }

  /** The cross-instance announcement channel, when there is one (Redis). */
  get bus(): RevocationBus | undefined {
    return this.options.bus
  }

  get mode() {
    return this.verifier.mode
  }

  /** The user for a token already in the cache, or undefined; never verifies anything. */
  cachedUser(header: string | undefined): AuthUser | undefined {
    const bearer = parseBearer(header)
    return bearer.ok ? this.cache.peek(bearer.token) : undefined
  }

  /**
   * The user behind an `Authorization` header value; throws (or rejects with) a 401 or 503
   * ApiError. A cached token is answered synchronously; only a miss returns a promise.
   */
  authenticate(header: string | undefined): AuthUser | Promise<AuthUser> {
    const bearer = parseBearer(header)
    if (!bearer.ok) {
      throw unauthorized(
        bearer.reason === 'missing' ? 'A bearer token is required' : 'The bearer token is malformed',
      )
    }
    const found = this.cache.get(bearer.token)
    return found instanceof Promise
      ? found.then(acceptedOrThrow, (error) => this.#unavailable(error))
      : acceptedOrThrow(found)
  }

  #unavailable(error: unknown): never {
    if (error instanceof AuthUnavailableError) {
      this.logger.warn({ err: error.cause ?? error }, 'auth server unavailable')
      throw new ApiError('AUTH_UNAVAILABLE', {
        headers: { 'Retry-After': String(error.retryAfterSeconds) },
        cause: error,
      })
    }
    throw error
  }

  /**
   * Ends the session of the token in this `Authorization` header (already authenticated as
   * `user`): revoked where tokens are verified, and evicted from this cache.
   */
  async logout(header: string | undefined, user: AuthUser): Promise<void> {
    const bearer = parseBearer(header)
    if (!bearer.ok) throw unauthorized('A bearer token is required')
    const token = bearer.token
    this.cache.evictToken(token)
    try {
      await this.verifier.revoke(token, user)
    } catch (error) {
      if (error instanceof AuthUnavailableError) {
        throw new ApiError('AUTH_UNAVAILABLE', {
          headers: { 'Retry-After': String(error.retryAfterSeconds) },
        })
      }
      throw error
    }
    // Evict again: a request that was verifying this token during the revoke must not re-add it.
    this.cache.evictToken(token)
    // Awaited, so when the client sees the logout succeed the other instances have been told.
    await this.options.bus?.publish({ kind: 'token', key: tokenKey(token) })
  }

  /** Evicts one user's cached tokens, or all of them. */
  invalidate(userId?: string): number {
    void this.options.bus?.publish(
      userId === undefined ? { kind: 'all' } : { kind: 'user', userHash: hashUserId(userId) },
    )
    return this.cache.evictUser(userId)
  }

  stats(): TokenCacheStats {
    return this.cache.stats()
  }

  /** For `/ready`: the mode and, in Supabase mode, the upstream breaker's state. */
  readiness() {
    return { mode: this.verifier.mode, upstream: this.verifier.health().upstream }
  }

  // Runs once per cache fill, not per request: ensure the profile row exists and read the role.
  async #toUser(identity: VerifiedIdentity): Promise<AuthUser> {
    if (this.options.ownsAuthUsers) {
      await this.db.transaction((tx) =>
        tx.query(
          `insert into auth.users (id, email, raw_app_meta_data) values ($1, $2, $3::text::jsonb)
           on conflict (id) do update set email = excluded.email, raw_app_meta_data = excluded.raw_app_meta_data
           where auth.users.email is distinct from excluded.email
              or auth.users.raw_app_meta_data is distinct from excluded.raw_app_meta_data`,
          [identity.userId, identity.email ?? null, JSON.stringify(identity.claims.app_metadata ?? {})],
        ),
      )
    }
    const [profile] = await this.db.asService((tx) =>
      tx.query<{ role: string }>(
        `with created as (
           insert into public.user_profiles (id, email) values ($1, $2)
           on conflict (id) do nothing
           returning role
         )
         select role from created
         union all
         select role from public.user_profiles where id = $1
         limit 1`,
        [identity.userId, identity.email ?? null],
      ),
    )
    const isAdmin = identity.appRole === 'admin' || profile?.role === 'admin'
    return {
      id: identity.userId,
      email: identity.email,
      role: isAdmin ? 'admin' : 'user',
      sessionId: identity.sessionId,
      claims: identity.claims,
      idHash: hashUserId(identity.userId),
    }
  }
}
