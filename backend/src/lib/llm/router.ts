import { Breaker, BreakerOpenError, type BreakerStats, type BreakerThresholds } from '@/lib/breaker'
import { LlmTimeoutError, LlmUnavailableError, ProviderError } from '@/lib/llm/errors'
import { type LlmTracer, NoTracer, type TraceContext } from '@/lib/llm/tracing'
import type { ChatRequest, Completion, LlmProvider, ProviderName, StreamChunk, Usage } from '@/lib/llm/types'
import type { Logger } from '@/lib/log'

export interface RouterLimits {
  /** Whole-answer deadline per attempt (LLM_TIMEOUT_MS). */
  timeoutMs: number
  /** A stream must yield its first chunk within this (LLM_FIRST_TOKEN_TIMEOUT_MS). */
  firstTokenTimeoutMs: number
  /** A 429 whose retry-after is at most this is waited out once on the same model. */
  retryAfterCapMs: number
}

export interface Attempt {
  provider: ProviderName
  model: string
  reason: string
}

export interface Routed {
  provider: ProviderName
  model: string
  /** 1-based: which attempt answered. */
  attempt: number
  /** The provider that failed before this one answered, if any. */
  failedOverFrom?: ProviderName
  /** Breaker state of the answering provider when it was called. */
  breakerState: string
}

/** What a stream has produced: filled in as its chunks are read, complete once they end. */
export interface StreamResult {
  text: string
  /** From the provider's final chunk; unset until it arrives. */
  usage?: Usage
  finishReason?: string
}

export interface RoutedStream extends Routed {
  /** The stream, its first chunk already received (so the provider is committed to). */
  chunks: AsyncIterable<StreamChunk>
  /** Accumulated once, here: what the trace records and what a caller stores. */
  readonly result: Readonly<StreamResult>
}

/** Each provider's breaker counts outcomes only; the typed value travels through `fire`. */
type ProviderBreaker = Breaker<[() => Promise<void>], void>

/** One provider+model try, as the loop in `#route` acts on it. */
type AttemptResult<T> =
  | { kind: 'ok'; value: T; routed: Routed; startedAt: number; deadline: Deadline }
  | { kind: 'failover'; reason: string }
  | { kind: 'breaker_open'; retryAfterMs: number }
  | { kind: 'retry_after'; ms: number; reason: string }

interface AttemptContext {
  signal: AbortSignal
  /** Streams only: the first chunk must come within this. */
  firstTokenMs?: number
  /** A short 429 may be waited out (once per model). */
  mayWait: boolean
  attempt: number
  failedOverFrom?: ProviderName
  trace: TraceContext
  request: ChatRequest
}

class FirstTokenTimeout extends Error {}

/** The caller went away: says nothing about the provider, so the breaker must not count it. */
class CallerAborted extends Error {
  constructor(readonly reason: unknown) {
    super('the caller aborted')
  }
}

/**
 * An attempt's whole-answer deadline (LLM_TIMEOUT_MS). It can cut the attempt without cutting
 * the caller; a stream that answered keeps it running until the stream ends.
 */
class Deadline {
  readonly #controller = new AbortController()
  readonly #timer: Timer

  constructor(ms: number) {
    this.#timer = setTimeout(() => this.#controller.abort(new LlmTimeoutError()), ms)
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  cut(reason: Error): void {
    this.#controller.abort(reason)
  }

  clear(): void {
    clearTimeout(this.#timer)
  }
}

/** Rejects with FirstTokenTimeout (and ends the request) unless `opened` settles within `ms`. */
async function firstTokenWithin<T>(ms: number, deadline: Deadline, opened: Promise<T>): Promise<T> {
  let timer: Timer | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new FirstTokenTimeout())
      deadline.cut(new Error('first token timeout'))
    }, ms)
  })
  try {
    return await Promise.race([opened, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Before an answer has started, our own deadlines are the provider's failure (fail over); the
 * caller leaving is nobody's failure.
 */
function attemptError(provider: ProviderName, error: unknown, caller: AbortSignal): unknown {
  if (error instanceof LlmTimeoutError) return new ProviderError(provider, 'failure', `${provider} timed out`)
  if (error instanceof FirstTokenTimeout) {
    return new ProviderError(provider, 'failure', `${provider} sent nothing within the first-token timeout`)
  }
  if (caller.aborted) return new CallerAborted(caller.reason ?? error)
  return error
}

/** Runs `call` through the breaker, which sees only the outcome. */
function fire<T>(breaker: ProviderBreaker, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    breaker.fire(async () => resolve(await call())).catch(reject)
  })
}

/** Waits, unless the caller gives up first. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })

/**
 * Ordered failover over providers (LLM_PROVIDER, then LLM_FALLBACK_PROVIDERS), each behind its
 * own breaker; each provider's chat model, then its fallback model. What fails over to the next
 * model:
 * - ProviderError kind `failure` (5xx, 529, 429, network, 401/403/404 misconfiguration);
 * - the attempt's deadline, or a stream's first-token timeout, passing before the answer began.
 * An open breaker skips the provider's remaining models. A 429 with a retry-after of at most
 * `retryAfterCapMs` is waited out once on the same model. Thrown at once: ProviderError kind
 * `caller` (the request itself was refused), the caller aborting, anything unexpected. Streams
 * fail over only until their first chunk; after that the caller handles the error.
 */
export class LlmRouter {
  readonly #breakers = new Map<ProviderName, ProviderBreaker>()

  constructor(
    readonly providers: readonly LlmProvider[],
    breaker: BreakerThresholds,
    private readonly limits: RouterLimits,
    private readonly logger: Logger,
    readonly tracer: LlmTracer = new NoTracer(),
  ) {
    for (const provider of providers) {
      this.#breakers.set(
        provider.name,
        new Breaker(
          (call: () => Promise<void>) => call(),
          {
            ...breaker,
            name: provider.name,
            // Our own deadlines abort the request; the breaker only counts the outcome.
            timeoutMs: false,
            countsAsFailure: (error) =>
              !(error instanceof ProviderError && error.kind === 'caller') &&
              !(error instanceof CallerAborted),
          },
          logger,
        ),
      )
    }
  }

  async complete(
    request: ChatRequest,
    signal: AbortSignal,
    trace: TraceContext = { feature: 'unknown' },
  ): Promise<Completion & Routed> {
    const won = await this.#route((provider, model, s) => provider.complete(model, request, s), {
      signal,
      trace,
      request,
    })
    won.deadline.clear()
    this.tracer.record({
      context: trace,
      ...won.routed,
      messages: request.messages,
      output: won.value.text,
      usage: won.value.usage,
      startedAt: won.startedAt,
      endedAt: Date.now(),
    })
    return { ...won.value, ...won.routed }
  }

  /** Resolves once some provider has produced a first chunk; fails over until then. */
  async stream(
    request: ChatRequest,
    signal: AbortSignal,
    trace: TraceContext = { feature: 'unknown' },
  ): Promise<RoutedStream> {
    const won = await this.#route(
      async (provider, model, s) => {
        const iterator = provider.stream(model, request, s)[Symbol.asyncIterator]()
        return { iterator, first: await iterator.next() }
      },
      { signal, trace, request, firstTokenMs: this.limits.firstTokenTimeoutMs },
    )
    const { iterator, first } = won.value
    const result: StreamResult = { text: '' }
    const tracer = this.tracer
    async function* chunks(): AsyncIterable<StreamChunk> {
      let error: string | undefined
      try {
        for (let next = first; !next.done; next = await iterator.next()) {
          const chunk = next.value
          if (chunk.type === 'delta') result.text += chunk.text
          else {
            result.usage = chunk.usage
            result.finishReason = chunk.finishReason
          }
          yield chunk
        }
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught)
        throw caught
      } finally {
        won.deadline.clear()
        // Stopped early (the consumer broke off or threw): close the upstream stream now.
        await iterator.return?.()
        tracer.record({
          context: trace,
          ...won.routed,
          messages: request.messages,
          output: result.text,
          usage: result.usage,
          error,
          startedAt: won.startedAt,
          endedAt: Date.now(),
        })
      }
    }
    return { ...won.routed, chunks: chunks(), result }
  }

  /** Each provider's breaker, for /ready and admin stats. */
  breakers(): BreakerStats[] {
    return [...this.#breakers.values()].map((b) => b.stats())
  }

  /** The failover loop: every provider's models in order, until one attempt answers. */
  async #route<T>(
    call: (provider: LlmProvider, model: string, signal: AbortSignal) => Promise<T>,
    options: Pick<AttemptContext, 'signal' | 'trace' | 'request' | 'firstTokenMs'>,
  ): Promise<Extract<AttemptResult<T>, { kind: 'ok' }>> {
    const attempts: Attempt[] = []
    let soonestReset = Number.POSITIVE_INFINITY
    let failedOverFrom: ProviderName | undefined
    const tryOnce = (provider: LlmProvider, model: string, mayWait: boolean) =>
      this.#attempt(provider, model, (s) => call(provider, model, s), {
        ...options,
        mayWait,
        attempt: attempts.length + 1,
        failedOverFrom,
      })
    const failed = (provider: LlmProvider, model: string, reason: string) => {
      attempts.push({ provider: provider.name, model, reason })
      failedOverFrom ??= provider.name
    }
    for (const provider of this.providers) {
      for (const model of provider.models) {
        let result = await tryOnce(provider, model, true)
        if (result.kind === 'retry_after') {
          failed(provider, model, result.reason)
          await sleep(result.ms, options.signal)
          result = await tryOnce(provider, model, false)
        }
        if (result.kind === 'ok') return result
        if (result.kind === 'breaker_open') {
          soonestReset = Math.min(soonestReset, result.retryAfterMs)
          attempts.push({ provider: provider.name, model, reason: 'breaker open' })
          break
        }
        failed(provider, model, result.reason)
      }
    }
    const retryAfter = Number.isFinite(soonestReset) ? Math.max(1, Math.ceil(soonestReset / 1000)) : 5
    throw new LlmUnavailableError(retryAfter, attempts)
  }

  /** One provider+model try: its deadline (and first-token timer), its breaker, its outcome. */
  async #attempt<T>(
    provider: LlmProvider,
    model: string,
    call: (signal: AbortSignal) => Promise<T>,
    context: AttemptContext,
  ): Promise<AttemptResult<T>> {
    const breaker = this.#breakers.get(provider.name)
    if (!breaker) throw new Error(`no breaker for ${provider.name}`)
    if (breaker.state() === 'open') return { kind: 'breaker_open', retryAfterMs: breaker.retryAfterMs() }
    const { signal, firstTokenMs } = context
    signal.throwIfAborted()
    const breakerState = breaker.state()
    const startedAt = Date.now()
    const deadline = new Deadline(this.limits.timeoutMs)
    const attemptSignal = AbortSignal.any([signal, deadline.signal])
    try {
      const value = await fire(breaker, () => {
        const answer = call(attemptSignal)
        return (firstTokenMs === undefined ? answer : firstTokenWithin(firstTokenMs, deadline, answer)).catch(
          (error: unknown) => {
            throw attemptError(provider.name, error, signal)
          },
        )
      })
      const { attempt, failedOverFrom } = context
      const routed: Routed = { provider: provider.name, model, attempt, failedOverFrom, breakerState }
      return { kind: 'ok', value, routed, startedAt, deadline }
    } catch (error) {
      deadline.clear()
      if (error instanceof CallerAborted) throw error.reason
      if (signal.aborted) throw error
      if (error instanceof BreakerOpenError) return { kind: 'breaker_open', retryAfterMs: error.retryAfterMs }
      if (!(error instanceof ProviderError)) throw error
      // Failed calls are runs too: the trace shows what failed over, and why.
      this.tracer.record({
        context: context.trace,
        provider: provider.name,
        model,
        breakerState,
        attempt: context.attempt,
        failedOverFrom: context.failedOverFrom,
        messages: context.request.messages,
        error: error.message,
        startedAt,
        endedAt: Date.now(),
      })
      if (error.kind === 'caller') throw error
      this.logger.warn(
        { provider: provider.name, model, status: error.status, reason: error.message },
        'llm attempt failed',
      )
      // A short, explicit "come back in a moment" is worth one wait on the same model.
      const wait = error.status === 429 ? error.retryAfterMs : undefined
      if (context.mayWait && wait !== undefined && wait <= this.limits.retryAfterCapMs) {
        return { kind: 'retry_after', ms: wait, reason: error.message }
      }
      return { kind: 'failover', reason: error.message }
    }
  }
}
