/** The longest token we pass on; Supabase access tokens are around 1 KB. */
export const MAX_TOKEN_LENGTH = 8_192

// A compact JWS: three base64url segments (the signature may be empty only for alg "none",
// which every verifier refuses anyway).
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export type BearerResult = { ok: true; token: string } | { ok: false; reason: 'missing' | 'malformed' }

/**
 * Extracts the token from `Authorization: Bearer <token>`. Anything that cannot be a JWT is
 * refused here, so garbage never costs an upstream call or a cache slot.
 */
export function parseBearer(header: string | undefined): BearerResult {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' }
  if (header.length > MAX_TOKEN_LENGTH + 7) return { ok: false, reason: 'malformed' }
  const match = /^Bearer +(\S*) *$/i.exec(header)
  const token = match?.[1]
  if (!token || !COMPACT_JWT.test(token)) return { ok: false, reason: 'malformed' }
  return { ok: true, token }
}

/** SHA-256 of the token, hex: the only form in which a token is ever kept. */
export function tokenKey(token: string): string {
  return new Bun.CryptoHasher('sha256').update(token).digest('hex')
}
