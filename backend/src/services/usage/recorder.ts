import { sqlState } from '@/lib/db/errors'
import type { LlmRunRecord, LlmTracer } from '@/lib/llm/tracing'
import type { Logger } from '@/lib/log'
import type { UsageRow, UsageSink } from '@/services/usage/store'

export interface UsageRecorderOptions {
  /** Records held while waiting for a write; past this, new ones are dropped and counted. */
  maxQueued: number
  /** A write starts as soon as this many records are queued (and takes at most this many). */
  batchSize: number
  /** …or when this much time has passed since the last tick, whatever is queued. */
  flushIntervalMs: number
}

/**
 * 10,000 queued rows are a few MB at most; a batch of 500 is one insert of ~100 KB of JSON; a
 * second's delay is nothing for a report read over days.
 */
export const USAGE_DEFAULTS: UsageRecorderOptions = {
  maxQueued: 10_000,
  batchSize: 500,
  flushIntervalMs: 1_000,
}

export interface UsageStats {
  queued: number
  recorded: number
  written: number
  /** Refused because the queue was full (the database slower than the calls, or down). */
  dropped: number
  /** Lost with a failed insert: the batch's, or — after a data error — the rows that failed alone. */
  failed: number
}

const HASH = /^[0-9a-f]{16}$/

/**
 * What went wrong, from the router's error text (ProviderError messages: "openai answered 503",
 * "anthropic timed out", "openai unreachable: …", "… first-token timeout"). An attempt that
 * failed after its answer had begun (it carries output) is a `stream` error unless its text
 * says more.
 */
export function errorKind(run: Pick<LlmRunRecord, 'error' | 'output'>): string | null {
  if (run.error === undefined) return null
  const status = /\banswered (\d{3})\b/.exec(run.error)
  if (status) return `http_${status[1]}`
  if (/timed out|timeout|deadline/i.test(run.error)) return 'timeout'
  if (/unreachable/i.test(run.error)) return 'unreachable'
  return run.output === undefined ? 'other' : 'stream'
}

/** The columns are int4: a value past this would fail its whole batch (22003), not just itself. */
export const INT4_MAX = 2_147_483_647

// A token count above int4 is no real call's (a provider's bug or a fake): unknown, not clamped —
// a clamped 2^31 − 1 would still add billions of tokens to a provider's spend.
const tokens = (value: number | undefined) =>
  value !== undefined && Number.isInteger(value) && value >= 0 && value <= INT4_MAX ? value : null
/** A whole number in [min, INT4_MAX]; NaN (a broken clock) is `min`. */
const bounded = (value: number, min: number) =>
  Number.isFinite(value) ? Math.min(INT4_MAX, Math.max(min, Math.round(value))) : value > 0 ? INT4_MAX : min

/**
 * The stored row: the user as the trace's hash only, texts and numbers bounded by the columns'
 * checks and types, so one odd record cannot fail a batch.
 */
export function usageRow(run: LlmRunRecord): UsageRow {
  const hash = run.context.userHash
  const kind = errorKind(run)
  return {
    started_at: new Date(run.startedAt).toISOString(),
    // 2^31 − 1 ms is 24.8 days: a call that long is clamped (it did happen, and did take long).
    latency_ms: bounded(run.endedAt - run.startedAt, 0),
    user_hash: hash && HASH.test(hash) ? hash : null,
    feature: (run.context.feature || 'unknown').slice(0, 64),
    provider: (run.provider || 'unknown').slice(0, 32),
    model: (run.model || 'unknown').slice(0, 200),
    attempt: bounded(run.attempt, 1),
    failed_over: run.failedOverFrom !== undefined,
    outcome: kind === null ? 'ok' : 'error',
    error_kind: kind,
    input_tokens: tokens(run.usage?.input_tokens),
    output_tokens: tokens(run.usage?.output_tokens),
  }
}

/**
 * An `LlmTracer` that stores every run in `public.llm_usage`, off the request path: `record`
 * only pushes onto a bounded queue (full → drop and count, never wait), and one write at a time
 * drains it in batches, started by the batch size or the timer. A write that fails loses its
 * batch (counted, logged) — unless the failure was one row's data, when the rest are written
 * one by one; one that hangs holds only its own batch while the queue fills up to its bound. Nothing here is awaited by the router, so an answer never waits for the database.
 */
export class UsageRecorder implements LlmTracer {
  readonly #queue: UsageRow[] = []
  readonly #stats = { recorded: 0, written: 0, dropped: 0, failed: 0 }
  readonly #timer: Timer
  #writing: Promise<void> | undefined

  constructor(
    private readonly sink: UsageSink,
    private readonly logger: Logger,
    private readonly options: UsageRecorderOptions = USAGE_DEFAULTS,
  ) {
    this.#timer = setInterval(() => this.#kick(), options.flushIntervalMs)
    // A pending tick must not keep a finished process (a CLI, a test) alive.
    this.#timer.unref()
  }

  record(run: LlmRunRecord): void {
    try {
      if (this.#queue.length >= this.options.maxQueued) {
        this.#stats.dropped++
        // The first drop, then one line per 10,000: a full queue must not flood the log too.
        if (this.#stats.dropped % 10_000 === 1) {
          this.logger.warn({ dropped: this.#stats.dropped }, 'llm usage queue full: records dropped')
        }
        return
      }
      this.#queue.push(usageRow(run))
      this.#stats.recorded++
      if (this.#queue.length >= this.options.batchSize) this.#kick()
    } catch (error) {
      this.logger.warn({ err: error }, 'llm usage record failed (requests are unaffected)')
    }
  }

  stats(): UsageStats {
    return { queued: this.#queue.length, ...this.#stats }
  }

  /** Writes what is queued, waiting at most `timeoutMs` (shutdown; tests). */
  async flush(timeoutMs: number): Promise<void> {
    const drained = (async () => {
      while (this.#queue.length > 0 || this.#writing) {
        this.#kick()
        await this.#writing
      }
    })()
    let timer: Timer | undefined
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  /** Stops the timer (after the last flush, before the database closes). */
  stop(): void {
    clearInterval(this.#timer)
  }

  /** Starts the single writer unless it is running; from a microtask, never inside `record`. */
  #kick(): void {
    if (this.#writing || this.#queue.length === 0) return
    this.#writing = Promise.resolve()
      .then(() => this.#drain())
      .finally(() => {
        this.#writing = undefined
      })
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.options.batchSize)
      try {
        await this.sink.insert(batch)
        this.#stats.written += batch.length
      } catch (error) {
        // A data error (SQLSTATE class 22 or 23: a value or a check one row broke) is that row's:
        // the others are written one by one, once. Anything else (the database down or hanging)
        // would fail each of them too, so the batch is lost rather than tried row by row.
        const rowFault = batch.length > 1 && /^2[23]/.test(sqlState(error) ?? '')
        const lost = rowFault ? await this.#oneByOne(batch) : batch.length
        this.#stats.written += batch.length - lost
        this.#stats.failed += lost
        this.logger.warn(
          { err: error, rows: batch.length, lost },
          'llm usage write failed (requests are unaffected)',
        )
      }
    }
  }

  /** Writes each row on its own; answers how many still failed. */
  async #oneByOne(batch: readonly UsageRow[]): Promise<number> {
    let lost = 0
    for (const row of batch) {
      try {
        await this.sink.insert([row])
      } catch {
        lost++
      }
    }
    return lost
  }
}
