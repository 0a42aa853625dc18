import { errors as joseErrors, jwtVerify } from 'jose'
import { tokenKey } from '@/lib/auth/bearer'
import {
  MAX_LOCAL_TOKEN_LIFETIME_SECONDS,
  type SessionTokenRequest,
  signSessionToken,
} from '@/lib/auth/local-tokens'
import type { AuthUser, TokenVerifier, VerifiedIdentity, VerifyOutcome } from '@/lib/auth/types'
import type { Database, JwtClaims } from '@/lib/db/database'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** How far in the future a signer's clock may put `iat` (Supabase's clock is not ours). */
const IAT_SKEW_SECONDS = 60

/**
 * How long a logout's revocation row is kept. Every accepted token has `iat ≤ now + skew` and
 * `exp − iat ≤ MAX_LOCAL_TOKEN_LIFETIME_SECONDS`, so no token issued before the logout can still
 * be valid after this; the presented token's own `exp` is not enough — another token of the same
 * session may expire later, and an expired row is purged.
 */
export const REVOCATION_RETENTION_SECONDS = MAX_LOCAL_TOKEN_LIFETIME_SECONDS + IAT_SKEW_SECONDS

/**
 * Local mode: HS256 JWTs with Supabase's claim shape, signed with a local secret. Checks the
 * signature and algorithm (only HS256; `none` and every other algorithm are refused), `exp`,
 * `nbf`, `aud = authenticated`, a non-empty `sub`, that the session was not logged out nor the
 * user deleted since the token was issued, and a
 * bounded lifetime: `iat` is required, not in the future, and `exp − iat` is at most
 * MAX_LOCAL_TOKEN_LIFETIME_SECONDS (30 days) — what lets a revocation row expire at all.
 */
export class LocalVerifier implements TokenVerifier {
  readonly mode = 'local'
  readonly #key: Uint8Array

  constructor(
    secret: string,
    private readonly db: Database,
  ) {
    this.#key = new TextEncoder().encode(secret)
  }

  async verify(token: string): Promise<VerifyOutcome> {
    let claims: JwtClaims
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        audience: 'authenticated',
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: 0,
      })
      const iat = payload.iat as number
      if (iat > Date.now() / 1000 + IAT_SKEW_SECONDS) return { ok: false, reason: 'issued in the future' }
      if ((payload.exp as number) - iat > MAX_LOCAL_TOKEN_LIFETIME_SECONDS)
        return { ok: false, reason: 'lifetime too long' }
      // Supabase user ids are UUIDs; anything else cannot name a user row.
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub))
        return { ok: false, reason: 'bad subject' }
      claims = payload as JwtClaims
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return { ok: false, reason: error.code }
      throw error
    }
    const identity = identityFromClaims(claims)
    const revoked = await this.#revocation(token, identity.userId, identity.sessionId, claims.iat as number)
    if (revoked) return { ok: false, reason: revoked }
    return { ok: true, identity }
  }

  async revoke(token: string, user: Pick<AuthUser, 'id' | 'sessionId' | 'claims'>): Promise<void> {
    // Not the presented token's `exp`: see REVOCATION_RETENTION_SECONDS.
    const until = Math.floor(Date.now() / 1000) + REVOCATION_RETENTION_SECONDS
    await this.db.asService(async (tx) => {
      await tx.query('delete from public.auth_revoked_sessions where expires_at < now()')
      await tx.query(
        `insert into public.auth_revoked_sessions (revocation_key, user_id, expires_at)
         values ($1, $2, to_timestamp($3)) on conflict (revocation_key) do nothing`,
        [revocationKey(token, user.sessionId), user.id, until],
      )
    })
  }

  /**
   * Signs a local account session's access token with this verifier's own secret (the one it
   * checks tokens with: with DATA_DIR=":memory:" it exists nowhere else).
   */
  issue(request: SessionTokenRequest): Promise<string> {
    return signSessionToken(this.#key, request)
  }

  health() {
    return { upstream: 'none' as const }
  }

  /**
   * Why the token is refused, if it is: its session (or, without one, the token itself) was
   * logged out, or its user was deleted at or after the token's `iat` (plus the signer's allowed
   * clock skew). One query for both keys, as before.
   */
  async #revocation(
    token: string,
    userId: string,
    sessionId: string | undefined,
    iat: number,
  ): Promise<string | undefined> {
    const sessionKey = revocationKey(token, sessionId)
    const rows = await this.db.asService((tx) =>
      tx.query<{ revocation_key: string; revoked_at: number }>(
        `select revocation_key, extract(epoch from revoked_at)::float8 as revoked_at
           from public.auth_revoked_sessions where revocation_key in ($1, $2)`,
        [sessionKey, userRevocationKey(userId)],
      ),
    )
    for (const row of rows) {
      if (row.revocation_key === sessionKey) return 'session revoked'
      // A token issued after the deletion (the same e-mail signing up again, which gives the
      // same local id) is a new account's; one issued before it never works again.
      if (iat > Number(row.revoked_at) + IAT_SKEW_SECONDS) continue
      // Within the skew, `iat` cannot tell: a token of a session opened after the deletion is
      // the new account's (the deletion removed every session the old one had).
      if (sessionId && (await this.#openedAfter(sessionId, userId, Number(row.revoked_at)))) continue
      return 'user deleted'
    }
    return undefined
  }

  /**
   * Whether `sessionId` is a live local-account session of `userId` opened after `revokedAt`
   * (epoch seconds). Asked for every token the tombstone would refuse (issued before the
   * deletion, or within the minute after it) that the negative cache has not seen yet. Without
   * the local-account tables (they exist only beside our own auth.users) there is no such session.
   */
  async #openedAfter(sessionId: string, userId: string, revokedAt: number): Promise<boolean> {
    if (!UUID.test(sessionId)) return false
    // As the owner, like the account store: the local-account tables grant nothing to API roles.
    const rows = await this.db.transaction(async (tx) => {
      const [table] = await tx.query<{ present: boolean }>(
        `select to_regclass('auth.local_sessions') is not null as present`,
      )
      if (!table?.present) return []
      return tx.query(
        `select 1 from auth.local_sessions
          where id = $1 and user_id = $2 and revoked_at is null and created_at > to_timestamp($3)`,
        [sessionId, userId, revokedAt],
      )
    })
    return rows.length > 0
  }
}

/**
 * The tombstone key of a deleted account (`user:` + SHA-256 of the id): the account's tokens
 * issued before `revoked_at` are refused. Kept REVOCATION_RETENTION_SECONDS, like a logout.
 */
export function userRevocationKey(userId: string): string {
  return `user:${new Bun.CryptoHasher('sha256').update(userId).digest('hex')}`
}

/** Logout ends the whole session; a token without a session id is revoked by its own hash. */
function revocationKey(token: string, sessionId: string | undefined): string {
  return sessionId ? `session:${sessionId}` : `token:${tokenKey(token)}`
}

/** The identity carried by verified Supabase-shaped claims. */
export function identityFromClaims(claims: JwtClaims): VerifiedIdentity {
  const appMetadata = (claims.app_metadata ?? {}) as Record<string, unknown>
  return {
    userId: claims.sub,
    email: typeof claims.email === 'string' ? claims.email : undefined,
    appRole: typeof appMetadata.role === 'string' ? appMetadata.role : undefined,
    sessionId: typeof claims.session_id === 'string' ? claims.session_id : undefined,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
    claims,
  }
}
