import CircuitBreaker from 'opossum'
import type { Logger } from '@/lib/log'

export type BreakerState = 'closed' | 'open' | 'half_open'

export interface BreakerOptions {
  /** Names the upstream in logs, `/ready` and stats, e.g. `supabase-auth`, `openai`. */
  name: string
  /** A call slower than this counts as a failure (false: no breaker-side timeout). */
  timeoutMs: number | false
  errorThresholdPercent: number
  volumeThreshold: number
  resetTimeoutMs: number
  /**
   * Errors for which this returns false do not count against the upstream (a caller mistake
   * such as an invalid request must not open the breaker). Default: every error counts.
   */
  countsAsFailure?: (error: unknown) => boolean
}

/**
 * When a breaker opens and when it tries again: the same for every upstream (BREAKER_* settings),
 * so the factories take this one object and add the per-upstream name and timeout.
 */
export type BreakerThresholds = Pick<
  BreakerOptions,
  'errorThresholdPercent' | 'volumeThreshold' | 'resetTimeoutMs'
>

export interface BreakerStats {
  name: string
  state: BreakerState
  failures: number
  successes: number
  rejects: number
  timeouts: number
}

/** Raised instead of calling the upstream while the breaker is open. */
export class BreakerOpenError extends Error {
  constructor(
    readonly breaker: string,
    readonly retryAfterMs: number,
  ) {
    super(`${breaker} circuit is open`)
    this.name = 'BreakerOpenError'
  }
}

/**
 * An opossum circuit breaker around one upstream. State changes are logged; while open, calls
 * fail at once with `BreakerOpenError` carrying how long until the next trial call.
 */
export class Breaker<Args extends unknown[], Result> {
  readonly #breaker: CircuitBreaker<Args, Result>
  readonly #options: BreakerOptions
  #openedAt = 0

  constructor(action: (...args: Args) => Promise<Result>, options: BreakerOptions, logger: Logger) {
    this.#options = options
    this.#breaker = new CircuitBreaker(action, {
      name: options.name,
      timeout: options.timeoutMs,
      errorThresholdPercentage: options.errorThresholdPercent,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      errorFilter: options.countsAsFailure
        ? (error: unknown) => !options.countsAsFailure?.(error)
        : undefined,
    })
    this.#breaker.on('open', () => {
      this.#openedAt = Date.now()
      logger.warn({ breaker: options.name, reset_ms: options.resetTimeoutMs }, 'circuit opened')
    })
    this.#breaker.on('halfOpen', () =>
      logger.info({ breaker: options.name }, 'circuit half-open: trying one call'),
    )
    this.#breaker.on('close', () => logger.info({ breaker: options.name }, 'circuit closed'))
  }

  get name(): string {
    return this.#options.name
  }

  async fire(...args: Args): Promise<Result> {
    try {
      return await this.#breaker.fire(...args)
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        throw new BreakerOpenError(this.#options.name, this.retryAfterMs())
      }
      throw error
    }
  }

  state(): BreakerState {
    if (this.#breaker.opened) return 'open'
    if (this.#breaker.halfOpen) return 'half_open'
    return 'closed'
  }

  /** Milliseconds until the breaker lets a trial call through (0 unless open). */
  retryAfterMs(): number {
    if (!this.#breaker.opened) return 0
    return Math.max(0, this.#openedAt + this.#options.resetTimeoutMs - Date.now())
  }

  stats(): BreakerStats {
    const s = this.#breaker.stats
    return {
      name: this.#options.name,
      state: this.state(),
      failures: s.failures,
      successes: s.successes,
      rejects: s.rejects,
      timeouts: s.timeouts,
    }
  }

  shutdown(): void {
    this.#breaker.shutdown()
  }
}
