import type { Context, MiddlewareHandler } from 'hono'
import { ApiError } from '@/lib/errors/api-error'
import type { AppEnv } from '@/lib/http/context'

async function authenticate(c: Context<AppEnv>) {
  const found = c.get('services').auth.authenticate(c.req.header('authorization'))
  // Cached tokens come back synchronously; awaiting only a miss keeps the hot path promise-free.
  const user = found instanceof Promise ? await found : found
  c.set('user', user)
  return user
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
