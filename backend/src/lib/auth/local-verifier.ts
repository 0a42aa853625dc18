import { errors as joseErrors, jwtVerify } from 'jose'
import { tokenKey } from '@/lib/auth/bearer'
import { MAX_LOCAL_TOKEN_LIFETIME_SECONDS } from '@/lib/auth/local-tokens'
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
 * `nbf`, `aud = authenticated`, a non-empty `sub`, that the session was not logged out, and a
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
    if (await this.#isRevoked(token, identity.sessionId)) return { ok: false, reason: 'session revoked' }
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

  health() {
    return { upstream: 'none' as const }
  }

  async #isRevoked(token: string, sessionId: string | undefined): Promise<boolean> {
    const rows = await this.db.asService((tx) =>
      tx.query('select 1 from public.auth_revoked_sessions where revocation_key = $1', [
        revocationKey(token, sessionId),
      ]),
    )
    return rows.length > 0
  }
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
