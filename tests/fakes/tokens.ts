import { SignJWT } from 'jose'

export interface TokenOptions {
  sub?: string
  email?: string
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number
  /** Seconds from now before which the token is not valid. */
  notBeforeIn?: number
  audience?: string
  admin?: boolean
  /** app_metadata.role claims are server-controlled; user_metadata is not and must be ignored. */
  userMetadataRole?: string
  sessionId?: string
}

/** Signs a Supabase-shaped HS256 access token, valid or broken in exactly one way. */
export async function signToken(secret: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({
    email: options.email ?? `${crypto.randomUUID()}@example.test`,
    role: 'authenticated',
    session_id: options.sessionId ?? crypto.randomUUID(),
    app_metadata: { provider: 'email', ...(options.admin ? { role: 'admin' } : {}) },
    user_metadata: options.userMetadataRole ? { role: options.userMetadataRole } : {},
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? crypto.randomUUID())
    .setAudience(options.audience ?? 'authenticated')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3_600))
  if (options.notBeforeIn !== undefined) jwt.setNotBefore(now + options.notBeforeIn)
  return jwt.sign(new TextEncoder().encode(secret))
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned token (`alg: none`) with otherwise valid claims. */
export function unsignedToken(sub = crypto.randomUUID()): string {
  const now = Math.floor(Date.now() / 1000)
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, aud: 'authenticated', role: 'authenticated', exp: now + 3_600 })}.`
}

/** A token signed with HS512 instead of the configured HS256. */
export async function otherAlgorithmToken(secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS512' })
    .setSubject(crypto.randomUUID())
    .setAudience('authenticated')
    .setExpirationTime(now + 3_600)
    .sign(new TextEncoder().encode(secret))
}
