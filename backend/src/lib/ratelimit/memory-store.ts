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
    const stored = this.#tats.get(key) ?? 0
    const step = gcra(stored, now, limit, windowMs, consume)
    if (step.tat !== stored && step.tat > now) {
      // Delete then set: Map keeps insertion order, so the first key is the least recently used.
      this.#tats.delete(key)
      this.#tats.set(key, step.tat)
      if (this.#tats.size > this.maxKeys) {
        const oldest = this.#tats.keys().next().value
        if (oldest !== undefined) this.#tats.delete(oldest)
        this.evictions++
      }
    } else if (stored !== 0 && stored <= now) {
      // A spent-out entry is the same as none; drop it instead of keeping it around.
      this.#tats.delete(key)
    }
    return decision(step.allowed, step.usedMs, limit, windowMs)
  }

  close() {
    this.#tats.clear()
  }
}
