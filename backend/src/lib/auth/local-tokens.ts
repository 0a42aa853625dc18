import { SignJWT } from 'jose'

/**
 * The longest lifetime (`exp − iat`) of a local-mode token: the most `bun run token --ttl`
 * allows and `signLocalToken` signs. The verifier refuses longer-lived tokens (whoever signed
 * them), so that a logout's revocation row only has to outlive the logout by this long (see
 * `REVOCATION_RETENTION_SECONDS` in local-verifier.ts).
 */
export const MAX_LOCAL_TOKEN_LIFETIME_SECONDS = 30 * 86_400

export interface LocalTokenRequest {
  email: string
  admin?: boolean
  /** Lifetime in seconds, at most MAX_LOCAL_TOKEN_LIFETIME_SECONDS. */
  ttlSeconds: number
  /** Defaults to a stable id derived from the email, so a user keeps their data across tokens. */
  userId?: string
}

/** A stable UUID (version 8, "custom") for a local-mode email address. */
export function localUserId(email: string): string {
  const bytes = new Bun.CryptoHasher('sha256').update(`pilar-local-user:${email.toLowerCase()}`).digest()
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = Buffer.from(bytes.subarray(0, 16)).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Mints an HS256 access token with Supabase's claim shape. */
export async function signLocalToken(secret: string, request: LocalTokenRequest): Promise<string> {
  if (!(request.ttlSeconds >= 1 && request.ttlSeconds <= MAX_LOCAL_TOKEN_LIFETIME_SECONDS)) {
    throw new RangeError(`ttlSeconds must be between 1 and ${MAX_LOCAL_TOKEN_LIFETIME_SECONDS}`)
  }
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    email: request.email,
    role: 'authenticated',
    aud: 'authenticated',
    session_id: crypto.randomUUID(),
    app_metadata: { provider: 'local', ...(request.admin ? { role: 'admin' } : {}) },
    user_metadata: {},
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.userId ?? localUserId(request.email))
    .setIssuer('pilar-local')
    .setIssuedAt(now)
    .setExpirationTime(now + request.ttlSeconds)
    .sign(new TextEncoder().encode(secret))
}

/** An access token for a local account's session (POST /auth/v1/token and /signup). */
export interface SessionTokenRequest {
  userId: string
  email: string
  /** The account session's id: revoking the session refuses every token carrying it. */
  sessionId: string
  /** From the stored account (auth.users.raw_app_meta_data), never from the client. */
  appMetadata: Record<string, unknown>
  userMetadata: Record<string, unknown>
  /** Lifetime in seconds, at most MAX_LOCAL_TOKEN_LIFETIME_SECONDS. */
  ttlSeconds: number
  /** Issue time, epoch seconds (the session's `expires_at` is computed from the same value). */
  issuedAt: number
}

/** Mints a session's HS256 access token: the same claim shape `signLocalToken` makes. */
export async function signSessionToken(key: Uint8Array, request: SessionTokenRequest): Promise<string> {
  if (!(request.ttlSeconds >= 1 && request.ttlSeconds <= MAX_LOCAL_TOKEN_LIFETIME_SECONDS)) {
    throw new RangeError(`ttlSeconds must be between 1 and ${MAX_LOCAL_TOKEN_LIFETIME_SECONDS}`)
  }
  return new SignJWT({
    email: request.email,
    role: 'authenticated',
    aud: 'authenticated',
    session_id: request.sessionId,
    app_metadata: request.appMetadata,
    user_metadata: request.userMetadata,
    aal: 'aal1',
    is_anonymous: false,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.userId)
    .setIssuer('pilar-local')
    .setIssuedAt(request.issuedAt)
    .setExpirationTime(request.issuedAt + request.ttlSeconds)
    .sign(key)
}
