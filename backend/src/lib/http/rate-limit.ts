import type { Context, MiddlewareHandler, Next } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { AuthUser } from '@/lib/auth/types'
import { ApiError } from '@/lib/errors/api-error'
import { clientIp, ipSubject } from '@/lib/http/client-ip'
import type { HttpEnv } from '@/lib/http/context'
import type { Outcome } from '@/lib/ratelimit/limiter'
import { POLICY_NAMES, type PolicyName } from '@/lib/ratelimit/policies'

export type Decided = NonNullable<Outcome>

// `RateLimit-Remaining` as written so far for a request, kept on its context under a symbol
// rather than with `c.set`: a fifth entry in Hono's per-request variable map (it grows then)
// measured at about 0.6 µs of an authenticated request, in process.
const SHOWN = Symbol('rateLimitShown')
type Shown = Context & { [SHOWN]?: number }

/**
 * Writes the `RateLimit-*` headers of `outcome` for the answer to come, unless a policy with
 * fewer requests remaining already did: the client sees the limit it will hit first (on a tie,
 * the one written last: a route's own policy over the `/api` one). Called before the handler:
 * `c.header` then writes onto the headers the answer is built from (an error's too), so no
 * middleware has to wait for the handler to write them afterwards.
 */
export function showLimit<E extends HttpEnv>(c: Context<E>, outcome: Decided): void {
  const context = c as Shown
  const least = context[SHOWN]
  if (least !== undefined && least < outcome.remaining) return
  context[SHOWN] = outcome.remaining
  c.header('RateLimit-Limit', String(outcome.limit))
  c.header('RateLimit-Remaining', String(outcome.remaining))
  c.header('RateLimit-Reset', String(Math.ceil(outcome.resetMs / 1000)))
}

/** The `RateLimit-*` headers of `outcome` (showLimit writes the same three). */
function limitHeaders(outcome: Decided): Record<string, string> {
  return {
    'RateLimit-Limit': String(outcome.limit),
    'RateLimit-Remaining': String(outcome.remaining),
    'RateLimit-Reset': String(Math.ceil(outcome.resetMs / 1000)),
  }
}

/** The 429 for a refused outcome: the limit headers plus `Retry-After` in whole seconds (≥ 1). */
export function rateLimited(outcome: Decided, message?: string): ApiError {
  return new ApiError('RATE_LIMITED', {
    message: outcome.storeDown
      ? 'Rate limiting is unavailable right now, so limited requests are refused; try again shortly'
      : (message ?? `Too many requests (limit ${outcome.limit}); try again after Retry-After seconds`),
    headers: {
      ...limitHeaders(outcome),
      'Retry-After': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))),
    },
  })
}

/**
 * Spends one unit of `policy` for `subject`: the outcome to show (`showLimit`), or a thrown
 * 429. The memory store answers synchronously, so only a real promise is awaited (this runs on
 * every request, and each `await` of a plain value still costs a microtask).
 */
export function spend<E extends HttpEnv>(
  c: Context<E>,
  policy: PolicyName,
  subject: string,
): Outcome | Promise<Outcome> {
  const found = c.get('http').rateLimiter.check(policy, subject, true)
  if (found instanceof Promise) return found.then(allowedOrThrow)
  return allowedOrThrow(found)
}

function allowedOrThrow(outcome: Outcome): Outcome {
  if (outcome && !outcome.allowed) throw rateLimited(outcome)
  return outcome
}

/** The rate-limit subject of the request's client address. */
export function ipKey<E extends HttpEnv>(c: Context<E>): string {
  return ipSubject(clientIp(c))
}

// Middleware that applies the per-user `api` limit itself, once it knows the user (the auth
// middleware in lib/http/auth.ts). Functions, looked up by identity among a route's handlers.
const LIMITS_PER_USER = new WeakSet<object>()

/** Marks `middleware` as one that applies the per-user `api` limit (see `apiRateLimit`). */
export function limitsPerUser<M extends object>(middleware: M): M {
  LIMITS_PER_USER.add(middleware)
  return middleware
}

/** True for a route handler marked by `limitsPerUser` (also when Hono wrapped it). */
export const isPerUserLimit = (handler: unknown): boolean => LIMITS_PER_USER.has(unwrapped(handler) as object)

// Hono wraps a sub-router's handlers when that router has its own onError or notFound; the
// wrapped function is kept under this key (hono's findTargetHandler unwraps the same way).
const COMPOSED_HANDLER = '__COMPOSED_HANDLER'

/** The function Hono wrapped (the route table holds the wrapper); also read by the docs. */
export function unwrapped(handler: unknown): unknown {
  let target = handler
  while (typeof target === 'function' && COMPOSED_HANDLER in target) {
    target = (target as unknown as Record<string, unknown>)[COMPOSED_HANDLER]
  }
  return target
}

const isApiPath = (path: string) => path === '/api' || path.startsWith('/api/')

// The methods app.ts reads a body for (bodyLimit buffers a chunked one before the route runs).
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

function routeLimitsPerUser(c: Context): boolean {
  for (const route of matchedRoutes(c)) if (isPerUserLimit(route.handler)) return true
  return false
}

/**
 * The one `/api/*` limit (app.ts), so every request is limited exactly once. A request with a
 * token passes through to the route's auth middleware, which spends the user's `api` quota (on
 * a cache hit before any work, on a miss right after verification): every `/api` route has
 * one (rate-limit.test.ts walks the route table for a route without). Which route that is, is
 * known only by scanning the request's matched routes (~0.6 µs), so only writes pay for the
 * scan — their body is read before the route runs, and one that matches no route spends its
 * address's quota here, before that. A read with a token that matches no route spends it in
 * the not-found handler (`limitedNotFound`), where nothing has been read. A request without a
 * token spends its address's `anon` quota here, before any work.
 */
export function apiRateLimit(): MiddlewareHandler<HttpEnv> {
  const anonymous = rateLimit({ policy: 'anon', key: 'ip' })
  // Not async: the pass-through for authenticated requests adds no promise of its own.
  return function apiRateLimit(c, next) {
    if (
      c.req.header('authorization') !== undefined &&
      (!BODY_METHODS.has(c.req.method) || routeLimitsPerUser(c))
    ) {
      return next()
    }
    return anonymous(c, next)
  }
}

/**
 * Spends the address's `anon` quota for a request with a token that reached no route's auth
 * middleware: a 429 once it is spent, else the limit headers on the answer to come. For the
 * not-found handler below, and for a route's own "no such route" answer given before its auth
 * middleware (routes/teams/join.ts).
 */
export async function spendAsAnonymous<E extends HttpEnv>(c: Context<E>): Promise<void> {
  const found = spend(c, 'anon', ipKey(c))
  const outcome = found instanceof Promise ? await found : found
  if (outcome) showLimit(c, outcome)
}

/**
 * For the body checks (app.ts's bodyLimit, json-body.ts), before they refuse a write: one with a
 * token that `apiRateLimit` let through to its route's auth middleware never gets there, so it
 * spends its address's `anon` quota here instead (a 429 once that is spent) — otherwise a made-up
 * token would send bodies to be buffered and refused without limit.
 */
export async function spendForRefusedBody<E extends HttpEnv>(c: Context<E>): Promise<void> {
  if (c.req.header('authorization') !== undefined && routeLimitsPerUser(c)) await spendAsAnonymous(c)
}

/**
 * Wraps `app.notFound`: a read with a token that matched no `/api` route (which `apiRateLimit`
 * let through) spends its address's `anon` quota here, as an anonymous one would have. Writes
 * spent theirs in `apiRateLimit` already.
 */
export function limitedNotFound<E extends HttpEnv>(
  notFound: (c: Context<E>) => Response | Promise<Response>,
): (c: Context<E>) => Promise<Response> {
  return async function limitedNotFound(c) {
    if (
      isApiPath(c.req.path) &&
      !BODY_METHODS.has(c.req.method) &&
      c.req.header('authorization') !== undefined
    ) {
      await spendAsAnonymous(c)
    }
    return notFound(c)
  }
}

export interface RateLimitOptions {
  policy: PolicyName
  /**
   * Whose quota a request spends: the client address (`ip`), or the authenticated user (`user`,
   * keyed by the user-id hash; the route's auth middleware must come first).
   */
  key: 'ip' | 'user'
}

type UserEnv = HttpEnv & { Variables: { user?: AuthUser } }

/** Shows `outcome`'s limit (when there is one) on the answer, then lets the request on. */
export function shown<E extends HttpEnv>(c: Context<E>, outcome: Outcome, next: Next): Promise<void> {
  if (outcome) showLimit(c, outcome)
  return next()
}

// Every route-level limit this module made, so the OpenAPI document can declare the route's 429
// by identity (a renamed or wrapped function would otherwise silently drop it).
const ROUTE_LIMITS = new WeakSet<object>()

/** True for middleware made by `rateLimit(…)`. */
export const isRouteRateLimit = (handler: unknown): boolean =>
  typeof handler === 'function' && ROUTE_LIMITS.has(handler)

/**
 * A route's own limit by `policy`, on top of the `/api` one. A refused request is a 429. The
 * `RateLimit-*` headers go on every response this policy saw (see `showLimit`).
 */
export function rateLimit({ policy, key }: RateLimitOptions): MiddlewareHandler<UserEnv> {
  if (!POLICY_NAMES.includes(policy)) throw new Error(`unknown rate-limit policy ${policy}`)
  const subjectOf =
    key === 'ip'
      ? ipKey
      : (c: Context<UserEnv>) => {
          const user = c.get('user')
          if (!user) throw new Error('a per-user rate limit needs an auth middleware before it')
          return user.idHash
        }
  // Not async: on the memory store a request passes without a promise of its own.
  const middleware: MiddlewareHandler<UserEnv> = function rateLimit(c, next) {
    const found = spend(c, policy, subjectOf(c))
    return found instanceof Promise ? found.then((outcome) => shown(c, outcome, next)) : shown(c, found, next)
  }
  ROUTE_LIMITS.add(middleware)
  return middleware
}
