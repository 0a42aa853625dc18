import type { Context, MiddlewareHandler } from 'hono'
import type { AuthUser } from '@/lib/auth/types'
import { ApiError } from '@/lib/errors/api-error'
import type { AppEnv } from '@/lib/http/context'
import { decide, ipKey, rateLimited } from '@/lib/http/rate-limit'

async function authenticate(c: Context<AppEnv>) {
  const { auth } = c.get('services')
  const header = c.req.header('authorization')
  // A token already in the cache is known good: answered synchronously, no limiter involved.
  const cached = auth.cachedUser(header)
  if (cached) {
    c.set('user', cached)
    return cached
  }
  // No token at all is a plain 401: not a guess, and not worth a rate-limit check.
  if (header === undefined) return auth.authenticate(header) as AuthUser // throws the 401
  // Anything else is about to cost a verification. An address that has sent too many bad
  // tokens is refused first (this only looks; a failure below is what spends the quota).
  const subject = ipKey(c)
  const before = await decide(c, 'auth_failures', subject, false)
  if (before && !before.allowed) {
    throw rateLimited(before, 'Too many failed authentication attempts from this address; try again later')
  }
  try {
    const found = auth.authenticate(header)
    const user = found instanceof Promise ? await found : found
    c.set('user', user)
    return user
  } catch (error) {
    // Only a token that was sent and refused counts.
    if (error instanceof ApiError && error.code === 'UNAUTHORIZED') {
      await decide(c, 'auth_failures', subject, true)
    }
    throw error
  }
}

/** 401 unless the request carries a valid bearer token; sets the `user` context variable. */
export function requireAuth(): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    await authenticate(c)
    await next()
  }
}

/**
 * Anonymous requests pass; a request that sends a token must send a valid one (a bad token is
 * a 401, not a silent downgrade to anonymous).
 */
export function optionalAuth(): MiddlewareHandler<AppEnv> {
  return async function optionalAuth(c, next) {
    if (c.req.header('authorization') !== undefined) await authenticate(c)
    await next()
  }
}

/** 401 without a valid token, 403 unless the user's server-controlled role is admin. */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function requireAdmin(c, next) {
    const user = await authenticate(c)
    if (user.role !== 'admin') throw new ApiError('FORBIDDEN', { message: 'This needs the admin role' })
    await next()
  }
}

function sameSecret(presented: string, expected: string): boolean {
  const a = new TextEncoder().encode(presented)
  const b = new TextEncoder().encode(expected)
  // Constant time, so response timing does not reveal how much of the token matched.
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}

/** Monitoring access: `Authorization: Bearer <METRICS_TOKEN>`, or an admin user. */
export function requireAdminOrMetricsToken(): MiddlewareHandler<AppEnv> {
  const admin = requireAdmin()
  return async function requireAdminOrMetricsToken(c, next) {
    const metricsToken = c.get('services').config.METRICS_TOKEN
    const presented = /^Bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
    if (metricsToken && presented && sameSecret(presented, metricsToken)) return next()
    return admin(c, next)
  }
}

/** The user set by the auth middleware; a route without that middleware is a bug. */
export function currentUser(c: Context<AppEnv>) {
  const user = c.get('user')
  if (!user) throw new Error('route reads the user but has no auth middleware')
  return user
}
