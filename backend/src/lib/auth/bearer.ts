/** The longest token we pass on; Supabase access tokens are around 1 KB. */
export const MAX_TOKEN_LENGTH = 8_192

// A compact JWS: three base64url segments (the signature may be empty only for alg "none",
// which every verifier refuses anyway).
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export type BearerResult = { ok: true; token: string } | { ok: false; reason: 'missing' | 'malformed' }

/**
 * Extracts the token from `Authorization: Bearer <token>`. Only the cheap checks run here (it
 * is on every request); whether the token can be a JWT at all is `isCompactJwt`, which the
 * cache runs before any upstream call, so garbage never reaches the auth server.
 */
export function parseBearer(header: string | undefined): BearerResult {
  if (header === undefined || header.length === 0) return { ok: false, reason: 'missing' }
  if (header.length > MAX_TOKEN_LENGTH + 7) return { ok: false, reason: 'malformed' }
  const space = header.indexOf(' ')
  if (space !== 6 || header.slice(0, 6).toLowerCase() !== 'bearer') {
    return { ok: false, reason: header.trim() === '' ? 'missing' : 'malformed' }
  }
  const token = header.slice(7).trim()
  if (token.length === 0) return { ok: false, reason: 'malformed' }
  return { ok: true, token }
}

/** Whether a token has the shape of a compact JWT (three base64url segments). */
export function isCompactJwt(token: string): boolean {
  return COMPACT_JWT.test(token)
}

/** SHA-256 of the token, hex: the only form in which a token is ever kept. */
export function tokenKey(token: string): string {
  return Bun.SHA256.hash(token, 'hex')
}
