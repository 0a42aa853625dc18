import type { AuthUser, TokenVerifier, VerifiedIdentity, VerifyOutcome } from '@/lib/auth/types'
import { AuthUnavailableError } from '@/lib/auth/types'

/**
 * An in-process verifier for unit tests of the cache: tokens are `valid.<user>.<expSeconds>` (JWT-shaped) or
 * anything else (invalid). Counts calls; can be slowed down or made to fail.
 */
export class CountingVerifier implements TokenVerifier {
  readonly mode = 'local' as const
  calls = 0
  delayMs = 0
  down = false

  async verify(token: string): Promise<VerifyOutcome> {
    this.calls++
    if (this.delayMs) await Bun.sleep(this.delayMs)
    if (this.down) throw new AuthUnavailableError('down', 3)
    const [kind, user, exp] = token.split('.')
    if (kind !== 'valid' || !user) return { ok: false, reason: 'invalid' }
    return {
      ok: true,
      identity: {
        userId: user,
        email: `${user}@example.test`,
        appRole: undefined,
        sessionId: undefined,
        expiresAt: exp ? Number(exp) * 1000 : undefined,
        claims: { sub: user },
      },
    }
  }

  async revoke(): Promise<void> {}

  health() {
    return { upstream: 'none' as const }
  }
}

export async function toTestUser(identity: VerifiedIdentity): Promise<AuthUser> {
  return {
    id: identity.userId,
    email: identity.email,
    role: 'user',
    sessionId: identity.sessionId,
    claims: identity.claims,
    idHash: identity.userId,
  }
}
