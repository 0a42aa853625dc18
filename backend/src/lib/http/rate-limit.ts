import type { Context, MiddlewareHandler } from 'hono'
import type { AuthUser } from '@/lib/auth/types'
import { ApiError } from '@/lib/errors/api-error'
import { clientIp, ipSubject } from '@/lib/http/client-ip'
import type { HttpEnv } from '@/lib/http/context'
import type { Outcome, RateLimiter } from '@/lib/ratelimit/limiter'
import { POLICY_NAMES, type PolicyName } from '@/lib/ratelimit/policies'

type Decided = NonNullable<Outcome>

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

/** One check, awaited (for the auth path; the per-request middleware avoids the promise). */
export async function decide(
  limiter: RateLimiter,
  policy: PolicyName,
  subject: string,
  consume: boolean,
): Promise<Outcome> {
  const found = limiter.check(policy, subject, consume)
  return found instanceof Promise ? await found : found
}

/** The rate-limit subject of the request's client address. */
export function ipKey<E extends HttpEnv>(c: Context<E>): string {
  return ipSubject(clientIp(c))
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

/**
 * Limits by `policy`. A refused request is a 429. The `RateLimit-*` headers go on every
 * response this policy saw; when several policies apply, the one with the fewest requests
 * remaining wins, so the client sees the limit it will hit first.
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
  return async function rateLimit(c, next) {
    // The memory store answers synchronously: await only a promise (this runs on every request).
    const found = c.get('http').rateLimiter.check(policy, subjectOf(c), true)
    const outcome = found instanceof Promise ? await found : found
    if (outcome && !outcome.allowed) throw rateLimited(outcome)
    await next()
    if (!outcome) return
    const shown = c.res.headers.get('RateLimit-Remaining')
    if (shown !== null && Number(shown) <= outcome.remaining) return
    for (const [name, value] of Object.entries(limitHeaders(outcome))) c.res.headers.set(name, value)
  }
}
