import { ApiError } from '@/lib/errors/api-error'

export interface VerifyGateOptions {
  /** Token verifications one client address may have in flight at once. */
  perAddress: number
  /** The same for an address that has spent its `auth_failures` quota (or cannot be counted). */
  lockedPerAddress: number
  /** Verifications that may wait for a slot, per address; beyond that, 429. */
  maxWaiting: number
}

interface Slot {
  running: number
  waiting: (() => void)[]
}

/**
 * Bounds the token verifications (cache misses) one client address has in flight. A burst of
 * forged tokens from one client must not turn into a burst of calls to Supabase Auth — that
 * could trip its rate limit, then our breaker, and sign everyone out with 503s — yet no token
 * that verifies may be refused for where it comes from (one address can be a whole office).
 * So requests wait for a slot instead of being refused, and an address that keeps sending
 * refused tokens gets a single slot: its guessing slows to one verification at a time while
 * its valid tokens are still served. Per process, like the verifier's breaker it protects.
 */
export class VerifyGate {
  readonly #slots = new Map<string, Slot>()

  constructor(private readonly options: VerifyGateOptions) {
    if (options.lockedPerAddress < 1 || options.perAddress < options.lockedPerAddress) {
      throw new Error('VerifyGate needs 1 ≤ lockedPerAddress ≤ perAddress')
    }
  }

  /** Resolves with the release function once `subject` may verify one more token. */
  async acquire(subject: string, locked: boolean): Promise<() => void> {
    let slot = this.#slots.get(subject)
    if (!slot) {
      slot = { running: 0, waiting: [] }
      this.#slots.set(subject, slot)
    }
    const limit = locked ? this.options.lockedPerAddress : this.options.perAddress
    if (slot.running < limit) slot.running++
    else {
      if (slot.waiting.length >= this.options.maxWaiting) {
        throw new ApiError('RATE_LIMITED', {
          message: 'Too many token verifications in flight from this address; try again shortly',
          headers: { 'Retry-After': '1' },
        })
      }
      // A releasing request hands its slot straight to the next in line (running stays).
      const current = slot
      await new Promise<void>((resolve) => current.waiting.push(resolve))
    }
    return this.#releaser(subject, slot)
  }

  /** Verifications in flight for `subject` (for tests and stats). */
  inFlight(subject: string): number {
    return this.#slots.get(subject)?.running ?? 0
  }

  #releaser(subject: string, slot: Slot): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = slot.waiting.shift()
      if (next) return next()
      slot.running--
      if (slot.running === 0) this.#slots.delete(subject)
    }
  }
}
