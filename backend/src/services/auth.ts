import type { Histogram } from 'prom-client'
import { parseBearer, tokenKey } from '@/lib/auth/bearer'
import type { Revocation, RevocationBus } from '@/lib/auth/revocation-bus'
import { sessionKey, TokenCache, type TokenCacheCounters, type TokenCacheStats } from '@/lib/auth/token-cache'
import {
  type Authenticated,
  type Authenticator,
  AuthUnavailableError,
  type AuthUser,
  type TokenVerifier,
  type VerifiedIdentity,
} from '@/lib/auth/types'
import type { Database } from '@/lib/db/database'
import { unauthenticated } from '@/lib/errors/domain'
import { hashUserId, type Logger } from '@/lib/log'
import { storable } from '@/lib/text'

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
  /** Where verification latency is observed (`auth_upstream_duration_seconds`). */
  upstreamLatency?: Histogram
}

const INVALID_TOKEN = 'The bearer token is invalid, expired or revoked'

/**
 * Authentication for every request: bearer token → cached, verified user (with a profile row
 * and a server-controlled role), plus logout, invalidation and cache statistics.
 */
export class AuthService implements Authenticator {
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
      upstreamLatency: options.upstreamLatency,
    })
    options.bus?.subscribe(
      (revocation) => this.#applyRevocation(revocation),
      () => {
        // Revocations sent while we were not listening are lost: distrust everything cached.
        const dropped = this.cache.evictAll()
        this.logger.info({ dropped }, 'revocation channel reconnected: token cache cleared')
      },
    )
  }

  #applyRevocation(revocation: Revocation) {
    if (revocation.kind === 'token') this.cache.evictToken(revocation.key, revocation.session)
    else if (revocation.kind === 'user') this.cache.evictUser(revocation.userHash)
    else this.cache.evictAll()
  }

  /** The cross-instance announcement channel, when there is one (Redis). */
  get bus(): RevocationBus | undefined {
    return this.options.bus
  }

  get mode() {
    return this.verifier.mode
  }

  /**
   * The user behind an `Authorization` header value, parsed and hashed once. A cached token is
   * answered synchronously; on a miss `enter` is awaited before the verification (and its
   * release called after it), and a promise is returned. Throws (or rejects with) DomainError
   * UNAUTHORIZED, or AuthUnavailableError.
   */
  authenticate(
    header: string | undefined,
    enter?: () => Promise<() => void>,
  ): Authenticated | Promise<Authenticated> {
    if (header === undefined) throw unauthenticated('A bearer token is required')
    const bearer = parseBearer(header)
    if (!bearer.ok) {
      throw unauthenticated(
        bearer.reason === 'missing' ? 'A bearer token is required' : 'The bearer token is malformed',
      )
    }
    const key = tokenKey(bearer.token)
    const cached = this.cache.peek(key)
    if (cached) return { user: cached, cached: true }
    return this.#verify(bearer.token, key, enter)
  }

  async #verify(token: string, key: string, enter?: () => Promise<() => void>) {
    let user: AuthUser | null
    try {
      // The gate is passed once per verification, inside the cache's single flight: 100
      // requests with one new token are one upstream call and one slot.
      user = await this.cache.get(token, key, enter)
    } catch (error) {
      if (error instanceof AuthUnavailableError) {
        this.logger.warn({ err: error.cause ?? error }, 'auth server unavailable')
      }
      throw error
    }
    if (!user) throw unauthenticated(INVALID_TOKEN)
    return { user, cached: false }
  }

  /**
   * Ends the session of the token in this `Authorization` header (already authenticated as
   * `user`): revoked where tokens are verified, and every token of the session — a refreshed
   * Supabase token is a second one — evicted from this cache and from the other instances'.
   */
  async logout(header: string | undefined, user: AuthUser): Promise<void> {
    const bearer = parseBearer(header)
    if (!bearer.ok) throw unauthenticated('A bearer token is required')
    const key = tokenKey(bearer.token)
    const session = user.sessionId ? sessionKey(user.sessionId) : undefined
    this.cache.evictToken(key, session)
    await this.verifier.revoke(bearer.token, user)
    // Evict again: a request that was verifying a token of this session during the revoke
    // must not re-add it.
    this.cache.evictToken(key, session)
    // Awaited, so when the client sees the logout succeed the other instances have been told.
    await this.options.bus?.publish(
      session === undefined ? { kind: 'token', key } : { kind: 'token', key, session },
    )
  }

  /** Evicts one user's cached tokens, or all of them. */
  invalidate(userId?: string): number {
    if (userId === undefined) {
      void this.options.bus?.publish({ kind: 'all' })
      return this.cache.evictAll()
    }
    const userHash = hashUserId(userId)
    void this.options.bus?.publish({ kind: 'user', userHash })
    return this.cache.evictUser(userHash)
  }

  /**
   * Evicts one user's cached tokens here and — awaited, so the caller knows it was sent — on
   * every other instance (account deletion: the next request with any of their tokens is
   * verified again, and refused).
   */
  async evictUser(userId: string): Promise<number> {
    const userHash = hashUserId(userId)
    const count = this.cache.evictUser(userHash)
    await this.options.bus?.publish({ kind: 'user', userHash })
    return count
  }

  /** Cache counters, synchronously (for the metrics scrape). */
  counters(): TokenCacheCounters {
    return this.cache.counters()
  }

  stats(): Promise<TokenCacheStats> {
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
    // The profile is created on first sight, named after user_metadata.full_name or the
    // e-mail's local part; last_seen_at moves at most every 5 minutes (a write per cache fill
    // would be one per token per TTL) and does not count as an edit (updated_at stays).
    const [profile] = await this.db.asService((tx) =>
      tx.query<{ role: string }>(
        `with created as (
           insert into public.user_profiles (id, email, display_name, last_seen_at) values ($1, $2, $3, now())
           on conflict (id) do update set last_seen_at = now()
            where user_profiles.last_seen_at is null or user_profiles.last_seen_at < now() - interval '5 minutes'
           returning role
         )
         select role from created
         union all
         select role from public.user_profiles where id = $1
         limit 1`,
        [identity.userId, identity.email ?? null, defaultDisplayName(identity)],
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

/** Longest display name the API accepts (the column allows 200, for older rows). */
const DISPLAY_NAME_MAX = 80

/**
 * A new profile's display name: `user_metadata.full_name` (user-editable, so cleaned: text the
 * database cannot hold removed, trimmed, cut to 80 characters), else the e-mail's local part.
 */
export function defaultDisplayName(identity: Pick<VerifiedIdentity, 'email' | 'claims'>): string | null {
  const metadata = identity.claims.user_metadata
  const fullName =
    metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>).full_name : undefined
  for (const candidate of [fullName, identity.email?.split('@')[0]]) {
    if (typeof candidate !== 'string') continue
    // By code points, so a cut never leaves half a surrogate pair.
    const name = Array.from(storable(candidate).trim()).slice(0, DISPLAY_NAME_MAX).join('').trim()
    if (name) return name
  }
  return null
}
