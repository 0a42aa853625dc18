import type { Decision } from '@/lib/ratelimit/gcra'

/** Where rate-limit state lives: this process's memory, or Redis shared by every instance. */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis'
  /**
   * Checks `key` against `limit` per `windowMs`. With `consume`, an allowed request uses one unit
   * of the quota; without it the check only looks (used before verifying a token, so that a
   * request is counted only when it fails). Rejects when the store cannot answer.
   */
  check(key: string, limit: number, windowMs: number, consume: boolean): Decision | Promise<Decision>
  close(): void
}
