import type { Context, MiddlewareHandler, Next } from 'hono'
import type { Authenticator, AuthUser } from '@/lib/auth/types'
import { ApiError } from '@/lib/errors/api-error'
import { DomainError } from '@/lib/errors/domain'
import type { HttpEnv } from '@/lib/http/context'
import { ipKey, limitsPerUser, rateLimited, showLimit, shown, spend } from '@/lib/http/rate-limit'
import type { Outcome, RateLimiter } from '@/lib/ratelimit/limiter'

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
const LOCKED = 'Too many failed authentication attempts from this address; try again later'

/** What one of this file's auth middleware adds to a route's contract (401, 403, security). */
export type AuthRequirement = 'optional' | 'required' | 'admin'

// The OpenAPI document (routes/docs/implied-errors.ts) finds the auth middleware among a route's
// handlers by identity, like limitsPerUser's mark: a renamed function keeps its declarations.
const REQUIREMENTS = new WeakMap<object, AuthRequirement>()

function marked<M extends object>(requirement: AuthRequirement, middleware: M): M {
  REQUIREMENTS.set(middleware, requirement)
  return middleware
}

/** The requirement of a handler built by this file's auth middleware; undefined for any other. */
export function authRequirement(handler: unknown): AuthRequirement | undefined {
  return typeof handler === 'function' ? REQUIREMENTS.get(handler) : undefined
}

/**
 * Authenticates the request and spends the user's `api` quota — once per request, here and
 * only here (the `/api` middleware leaves requests that reach this to it). A cached token costs
 * one hash, one map lookup and one limiter check, and no promise on the memory store (this is
 * the hot path). Returns the limit to show on the response.
 */
function authenticate<E extends HttpEnv & MaybeAuthEnv>(c: Context<E>): Outcome | Promise<Outcome> {
  const { authenticator, rateLimiter } = c.get('http')
  const header = c.req.header('authorization')
  let found: ReturnType<Authenticator['authenticate']>
  try {
    // Every token is verified — one that verifies is never refused, whoever shares its
    // address — but through the address's verification gate (see verify-gate.ts): an address
    // that has sent too many refused tokens verifies one at a time.
    found = authenticator.authenticate(header, () => enterGate(c, rateLimiter))
  } catch (error) {
    return failed(c, rateLimiter, header, error)
  }
  if (found instanceof Promise) {
    return found.then(
      ({ user }) => admit(c, user),
      (error: unknown) => failed(c, rateLimiter, header, error),
    )
  }
  return admit(c, found.user)
}

function admit<E extends HttpEnv & MaybeAuthEnv>(c: Context<E>, user: AuthUser): Outcome | Promise<Outcome> {
  c.set('user', user)
  return spend(c, 'api', user.idHash)
}

async function failed<E extends HttpEnv>(
  c: Context<E>,
  limiter: RateLimiter,
  header: string | undefined,
  error: unknown,
): Promise<never> {
  if (!(error instanceof DomainError && error.code === 'UNAUTHORIZED')) throw error
  throw await refused(c, limiter, header, error.message)
}

async function enterGate<E extends HttpEnv>(c: Context<E>, limiter: RateLimiter): Promise<() => void> {
  const subject = ipKey(c)
  const found = limiter.check('auth_failures', subject, false)
  const before = found instanceof Promise ? await found : found
  // Spent, or the store cannot tell (auth_failures fails closed): the slow lane.
  return c.get('http').verifyGate.acquire(subject, before !== null && !before.allowed)
}

/**
 * The answer to a refused token: 401, counted against the address — unless the address is
 * over its failure quota (or the store cannot count), then 429 with `Retry-After`, which slows
 * a guesser down. No header at all is not a guess, and is not counted.
 */
async function refused<E extends HttpEnv>(
  c: Context<E>,
  limiter: RateLimiter,
  header: string | undefined,
  message: string,
): Promise<ApiError> {
  if (header !== undefined) {
    const found = limiter.check('auth_failures', ipKey(c), true)
    const counted = found instanceof Promise ? await found : found
    if (counted && !counted.allowed) return rateLimited(counted, LOCKED)
  }
  return new ApiError('UNAUTHORIZED', { message, headers: WWW_AUTHENTICATE })
}

// The three below are not async, and show the limit before the handler (see showLimit): a
// cached token on the memory store passes without a promise of its own — this is every
// authenticated request.

/** 401 unless the request carries a valid bearer token; sets `user`. */
export function requireAuth(): MiddlewareHandler<HttpEnv & AuthEnv> {
  return limitsPerUser(
    marked('required', function requireAuth(c, next) {
      const found = authenticate(c)
      return found instanceof Promise ? found.then((limit) => shown(c, limit, next)) : shown(c, found, next)
    }),
  )
}

/**
 * Anonymous requests pass; a request that sends a token must send a valid one (a bad token is
 * a 401, not a silent downgrade to anonymous). Sets `user` when there is one.
 */
export function optionalAuth(): MiddlewareHandler<HttpEnv & MaybeAuthEnv> {
  return limitsPerUser(
    marked('optional', function optionalAuth(c, next) {
      if (c.req.header('authorization') === undefined) return next()
      const found = authenticate(c)
      return found instanceof Promise ? found.then((limit) => shown(c, limit, next)) : shown(c, found, next)
    }),
  )
}

/** 401 without a valid token, 403 unless the user's server-controlled role is admin; sets `user`. */
export function requireAdmin(): MiddlewareHandler<HttpEnv & AuthEnv> {
  // The limit is shown on the 403 too: the request spent it.
  const admitted = (c: Context<HttpEnv & AuthEnv>, limit: Outcome, next: Next) => {
    if (limit) showLimit(c, limit)
    if (c.get('user').role !== 'admin') {
      throw new ApiError('FORBIDDEN', { message: 'This needs the admin role' })
    }
    return next()
  }
  return limitsPerUser(
    marked('admin', function requireAdmin(c, next) {
      const found = authenticate(c)
      return found instanceof Promise
        ? found.then((limit) => admitted(c, limit, next))
        : admitted(c, found, next)
    }),
  )
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
  // A scraper holding the shared secret is not limited; anyone else is an admin, limited as a user.
  return limitsPerUser(
    marked('admin', async function requireAdminOrMetricsToken(c, next) {
      const presented = /^Bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
      if (expected && presented && sameSecret(new TextEncoder().encode(presented), expected)) return next()
      return admin(c as Context<HttpEnv & AuthEnv>, next)
    }),
  )
}

// Constant time, so response timing does not reveal how much of the token matched.
function sameSecret(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}
