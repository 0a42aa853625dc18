import type { Context, MiddlewareHandler } from 'hono'
import type { AuthUser } from '@/lib/auth/types'
import { ApiError } from '@/lib/errors/api-error'
import { DomainError } from '@/lib/errors/domain'
import type { HttpEnv } from '@/lib/http/context'
import { decide, ipKey, rateLimited } from '@/lib/http/rate-limit'

/** What the auth middleware puts on the context: handlers behind it read a typed `c.get('user')`. */
export interface AuthEnv {
  Variables: { user: AuthUser }
}

/** The same, for middleware that lets anonymous requests through. */
export interface MaybeAuthEnv {
  Variables: { user?: AuthUser }
}

// RFC 6750: a 401 names the scheme, so clients know a bearer token is what is missing.
const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Bearer error="invalid_token"' }

async function authenticate<E extends HttpEnv & MaybeAuthEnv>(c: Context<E>): Promise<AuthUser> {
  const { authenticator, rateLimiter } = c.get('http')
  let subject: string | undefined
  try {
    // A token already in the cache is known good: answered synchronously, no limiter involved.
    // Anything else is about to cost a verification: an address that has sent too many bad
    // tokens is refused first (this only looks; a refusal below is what spends the quota).
    const found = authenticator.authenticate(c.req.header('authorization'), async () => {
      subject = ipKey(c)
      const before = await decide(rateLimiter, 'auth_failures', subject, false)
      if (before && !before.allowed) {
        throw rateLimited(
          before,
          'Too many failed authentication attempts from this address; try again later',
        )
      }
    })
    const { user } = found instanceof Promise ? await found : found
    c.set('user', user)
    return user
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'UNAUTHORIZED')) throw error
    // Only a token that was sent and refused counts (no header at all is not a guess).
    if (subject !== undefined) await decide(rateLimiter, 'auth_failures', subject, true)
    throw new ApiError('UNAUTHORIZED', { message: error.message, headers: WWW_AUTHENTICATE })
  }
}

/** 401 unless the request carries a valid bearer token; sets `user`. */
export function requireAuth(): MiddlewareHandler<HttpEnv & AuthEnv> {
  return async function requireAuth(c, next) {
    await authenticate(c)
    await next()
  }
}

/**
 * Anonymous requests pass; a request that sends a token must send a valid one (a bad token is
 * a 401, not a silent downgrade to anonymous). Sets `user` when there is one.
 */
export function optionalAuth(): MiddlewareHandler<HttpEnv & MaybeAuthEnv> {
  return async function optionalAuth(c, next) {
    if (c.req.header('authorization') !== undefined) await authenticate(c)
    await next()
  }
}

/** 401 without a valid token, 403 unless the user's server-controlled role is admin; sets `user`. */
export function requireAdmin(): MiddlewareHandler<HttpEnv & AuthEnv> {
  return async function requireAdmin(c, next) {
    const user = await authenticate(c)
    if (user.role !== 'admin') throw new ApiError('FORBIDDEN', { message: 'This needs the admin role' })
    await next()
  }
}

export interface MetricsAccessOptions {
  /** METRICS_TOKEN: a shared secret a scraper sends as its bearer token; unset = admins only. */
  metricsToken: string | undefined
}

/**
 * Monitoring access: `Authorization: Bearer <metricsToken>`, or an admin user (then `user` is
 * set; a scraper has none).
 */
export function requireAdminOrMetricsToken({
  metricsToken,
}: MetricsAccessOptions): MiddlewareHandler<HttpEnv & MaybeAuthEnv> {
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new Error('metricsToken must be at least 16 characters')
  }
  const expected = metricsToken === undefined ? undefined : new TextEncoder().encode(metricsToken)
  const admin = requireAdmin()
  return async function requireAdminOrMetricsToken(c, next) {
    const presented = /^Bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
    if (expected && presented && sameSecret(new TextEncoder().encode(presented), expected)) return next()
    return admin(c as Context<HttpEnv & AuthEnv>, next)
  }
}

// Constant time, so response timing does not reveal how much of the token matched.
function sameSecret(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}
