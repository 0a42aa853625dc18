/**
 * GCRA (generic cell rate algorithm): a sliding-window limit of `limit` requests per `windowMs`
 * that keeps one number per key — the "theoretical arrival time" (TAT) at which the key's quota
 * is whole again. A full quota can be spent at once (burst = limit); after that, one request is
 * allowed every `windowMs / limit`. The memory store runs `gcra` below; the Redis store runs the
 * same arithmetic in one Lua script, so both stores give the same answers.
 */

export interface Decision {
  allowed: boolean
  limit: number
  /** Requests still allowed right now. */
  remaining: number
  /** Milliseconds until the whole quota is available again. */
  resetMs: number
  /** Milliseconds until the next request would be allowed (0 when allowed). */
  retryAfterMs: number
}

/** Allowance for floating-point error, so `limit` requests at one instant are all allowed. */
export const EPSILON_MS = 0.001

export interface GcraStep {
  /** The TAT to store (unchanged when refused or only peeking). */
  tat: number
  /** TAT − now after the step: how much of the window the key has used. */
  usedMs: number
  allowed: boolean
}

/** One check at `now` against the stored TAT (0 when the key has none). */
export function gcra(
  storedTat: number,
  now: number,
  limit: number,
  windowMs: number,
  consume: boolean,
): GcraStep {
  const interval = windowMs / limit
  const tat = Math.max(storedTat, now)
  const next = tat + interval
  const allowed = next - now <= windowMs + EPSILON_MS
  if (allowed && consume) return { tat: next, usedMs: next - now, allowed }
  return { tat, usedMs: tat - now, allowed }
}

/** The header-level decision from how much of the window a key has used. */
export function decision(allowed: boolean, usedMs: number, limit: number, windowMs: number): Decision {
  const interval = windowMs / limit
  const remaining = Math.max(0, Math.floor((windowMs - usedMs + EPSILON_MS) / interval))
  return {
    allowed,
    limit,
    remaining,
    resetMs: Math.max(0, usedMs),
    retryAfterMs: allowed ? 0 : Math.max(0, usedMs + interval - windowMs),
  }
}
