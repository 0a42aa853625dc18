import { Breaker, BreakerOpenError, type BreakerOptions, type BreakerStats } from '@/lib/breaker'
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

export interface RoutedStream extends Routed {
  /** The stream, its first chunk already received (so the provider is committed to). */
  chunks: AsyncIterable<StreamChunk>
}

class FirstTokenTimeout extends Error {}

/** The caller went away: says nothing about the provider, so the breaker must not count it. */
class CallerAborted extends Error {
  constructor(readonly reason: unknown) {
    super('the caller aborted')
  }
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
 * Ordered failover over providers, each behind its own breaker. A short, top-to-bottom loop:
 * for each provider in the chain (LLM_PROVIDER, then LLM_FALLBACK_PROVIDERS), skip it at once
 * if its breaker is open; otherwise try its chat model, then its fallback model. What fails
 * over: ProviderError kind `failure` (5xx, 529, 429, timeouts, network, misconfiguration).
 * What does not: kind `caller` (the request itself was refused), rethrown at once. Streams fail
 * over only until their first chunk; after that the caller handles the error.
 */
export class LlmRouter {
  readonly #breakers = new Map<ProviderName, Breaker<[() => Promise<unknown>], unknown>>()

  constructor(
    readonly providers: readonly LlmProvider[],
    breaker: Omit<BreakerOptions, 'name' | 'timeoutMs' | 'countsAsFailure'>,
    private readonly limits: RouterLimits,
    private readonly logger: Logger,
    readonly tracer: LlmTracer = new NoTracer(),
  ) {
    for (const provider of providers) {
      this.#breakers.set(
        provider.name,
        new Breaker(
          (call: () => Promise<unknown>) => call(),
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
    const { value, routed, startedAt } = await this.#route(
      signal,
      async (provider, model, attemptSignal) => provider.complete(model, request, attemptSignal),
      false,
      { trace, request },
    )
    this.tracer.record({
      context: trace,
      ...routed,
      messages: request.messages,
      output: value.text,
      usage: value.usage,
      startedAt,
      endedAt: Date.now(),
    })
    return { ...value, ...routed }
  }

  /** Resolves once some provider has produced a first chunk; fails over until then. */
  async stream(
    request: ChatRequest,
    signal: AbortSignal,
    trace: TraceContext = { feature: 'unknown' },
  ): Promise<RoutedStream> {
    const { value, routed, startedAt, release } = await this.#route(
      signal,
      async (provider, model, attemptSignal, firstTokenSignal) => {
        const iterator = provider.stream(model, request, attemptSignal)[Symbol.asyncIterator]()
        const first = await Promise.race([
          iterator.next(),
          new Promise<never>((_, reject) =>
            firstTokenSignal.addEventListener('abort', () => reject(new FirstTokenTimeout()), { once: true }),
          ),
        ])
        return { iterator, first }
      },
      true,
      { trace, request },
    )
    const tracer = this.tracer
    async function* chunks(): AsyncIterable<StreamChunk> {
      let text = ''
      let usage: Usage | undefined
      let error: string | undefined
      try {
        let next = value.first
        while (!next.done) {
          const chunk = next.value
          if (chunk.type === 'delta') text += chunk.text
          else usage = chunk.usage
          yield chunk
          next = await value.iterator.next()
        }
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught)
        throw caught
      } finally {
        release()
        // Stopped early (the consumer broke off or threw): close the upstream stream now.
        await value.iterator.return?.()
        tracer.record({
          context: trace,
          ...routed,
          messages: request.messages,
          output: text,
          usage,
          error,
          startedAt,
          endedAt: Date.now(),
        })
      }
    }
    return { ...routed, chunks: chunks() }
  }

  /** Each provider's breaker, for /ready and admin stats. */
  breakers(): BreakerStats[] {
    return [...this.#breakers.values()].map((b) => b.stats())
  }

  async #route<T>(
    signal: AbortSignal,
    call: (
      provider: LlmProvider,
      model: string,
      attemptSignal: AbortSignal,
      firstTokenSignal: AbortSignal,
    ) => Promise<T>,
    streaming: boolean,
    traced: { trace: TraceContext; request: ChatRequest },
  ): Promise<{ value: T; routed: Routed; startedAt: number; release: () => void }> {
    const attempts: Attempt[] = []
    let soonestReset = Number.POSITIVE_INFINITY
    let failedOverFrom: ProviderName | undefined
    for (const provider of this.providers) {
      const breaker = this.#breakers.get(provider.name)
      if (!breaker) continue
      for (const model of provider.models) {
        if (breaker.state() === 'open') {
          soonestReset = Math.min(soonestReset, breaker.retryAfterMs())
          attempts.push({ provider: provider.name, model, reason: 'breaker open' })
          break
        }
        for (let retry = 0; retry < 2; retry++) {
          signal.throwIfAborted()
          const breakerState = breaker.state()
          const attemptStarted = Date.now()
          // Each attempt has its own deadline and can be cut without cutting the caller.
          const deadline = new AbortController()
          const firstToken = new AbortController()
          // For a stream the deadline keeps running after the first token, until the stream ends.
          let keepDeadline = false
          const timers = [
            setTimeout(() => deadline.abort(new LlmTimeoutError()), this.limits.timeoutMs),
            streaming
              ? setTimeout(() => {
                  firstToken.abort()
                  deadline.abort(new Error('first token timeout'))
                }, this.limits.firstTokenTimeoutMs)
              : undefined,
          ]
          const attemptSignal = AbortSignal.any([signal, deadline.signal])
          try {
            const value = (await breaker.fire(() =>
              call(provider, model, attemptSignal, firstToken.signal).catch((error: unknown) => {
                // Before an answer has started, a deadline is the provider's failure: fail over.
                if (error instanceof LlmTimeoutError) {
                  throw new ProviderError(provider.name, 'failure', `${provider.name} timed out`)
                }
                if (error instanceof FirstTokenTimeout) {
                  throw new ProviderError(
                    provider.name,
                    'failure',
                    `${provider.name} sent nothing within the first-token timeout`,
                  )
                }
                if (signal.aborted) throw new CallerAborted(signal.reason ?? error)
                throw error
              }),
            )) as T
            return {
              value,
              routed: {
                provider: provider.name,
                model,
                attempt: attempts.length + 1,
                failedOverFrom,
                breakerState,
              },
              startedAt: attemptStarted,
              release: (() => {
                keepDeadline = streaming
                const timer = timers[0]
                return () => clearTimeout(timer)
              })(),
            }
          } catch (error) {
            if (error instanceof CallerAborted) throw error.reason
            if (signal.aborted) throw error
            if (error instanceof BreakerOpenError) {
              soonestReset = Math.min(soonestReset, error.retryAfterMs)
              attempts.push({ provider: provider.name, model, reason: 'breaker open' })
              break
            }
            if (!(error instanceof ProviderError)) throw error
            // Failed calls are runs too: the trace shows what failed over, and why.
            this.tracer.record({
              context: traced.trace,
              provider: provider.name,
              model,
              breakerState,
              attempt: attempts.length + 1,
              failedOverFrom,
              messages: traced.request.messages,
              error: error.message,
              startedAt: attemptStarted,
              endedAt: Date.now(),
            })
            if (error.kind === 'caller') throw error
            attempts.push({ provider: provider.name, model, reason: error.message })
            this.logger.warn(
              { provider: provider.name, model, status: error.status, reason: error.message },
              'llm attempt failed',
            )
            failedOverFrom ??= provider.name
            // A short, explicit "come back in a moment" is worth one wait on the same model.
            if (
              retry === 0 &&
              error.status === 429 &&
              error.retryAfterMs !== undefined &&
              error.retryAfterMs <= this.limits.retryAfterCapMs
            ) {
              await sleep(error.retryAfterMs, signal)
              continue
            }
            break
          } finally {
            timers.forEach((timer, i) => {
              if (!(i === 0 && keepDeadline)) clearTimeout(timer)
            })
          }
        }
      }
    }
    const retryAfter = Number.isFinite(soonestReset) ? Math.max(1, Math.ceil(soonestReset / 1000)) : 5
    throw new LlmUnavailableError(retryAfter, attempts)
  }
}
