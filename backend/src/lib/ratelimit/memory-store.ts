import { type Decision, decision, gcra } from '@/lib/ratelimit/gcra'
import type { RateLimitStore } from '@/lib/ratelimit/store'

/**
 * Rate-limit state in this process: one number per key in a bounded LRU map. When the map is
 * full the least recently used key is dropped (that key's client gets a fresh quota; the count
 * is kept in `evictions`). Answers synchronously, so the limiter adds no promise to a request.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory' as const
  readonly #tats = new Map<string, number>()
  /** The key last moved to the end of `#tats` (its most recently used), or undefined. */
  #newest: string | undefined
  evictions = 0

  constructor(
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size() {
    return this.#tats.size
  }

  check(key: string, limit: number, windowMs: number, consume: boolean): Decision {
    const now = this.now()
    const tats = this.#tats
    const stored = tats.get(key) ?? 0
    const step = gcra(stored, now, limit, windowMs, consume)
    if (step.tat !== stored && step.tat > now) {
      if (key === this.#newest) {
        // Already the most recently used key: `set` on an existing key keeps its place, so the
        // order is right without the delete (the common case: one client's requests in a row).
        tats.set(key, step.tat)
      } else {
        // Delete then set: Map keeps insertion order, so the first key is the least recently used.
        tats.delete(key)
        tats.set(key, step.tat)
        this.#newest = key
        if (tats.size > this.maxKeys) {
          const oldest = tats.keys().next().value
          if (oldest !== undefined) tats.delete(oldest)
          this.evictions++
        }
      }
    } else if (stored !== 0 && stored <= now) {
      // A spent-out entry is the same as none; drop it instead of keeping it around.
      tats.delete(key)
      if (key === this.#newest) this.#newest = undefined
    }
    return decision(step.allowed, step.usedMs, limit, windowMs)
  }

  close() {
    this.#tats.clear()
    this.#newest = undefined
  }
}
