import { CodedError } from '@/lib/errors/coded'
import { UnavailableError } from '@/lib/errors/unavailable'

/**
 * Why a provider call failed, decided once, where the SDK's error is understood:
 * - `caller`: our request was refused (400 invalid request, 413, 422, content policy) — it would
 *   fail anywhere, so it neither trips the breaker nor fails over;
 * - `failure`: the provider could not serve it (5xx, 529 overloaded, 429, timeout, network,
 *   401/403/404 misconfiguration) — counted by the breaker and failed over.
 */
export class ProviderError extends CodedError {
  constructor(
    readonly provider: string,
    readonly kind: 'caller' | 'failure',
    message: string,
    readonly status?: number,
    /** From a `retry-after` header, when the provider sent one. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    // Reaches a client only when it is too late to fail over (or the request itself was refused).
    super(
      'UPSTREAM_ERROR',
      message,
      {
        message:
          kind === 'caller'
            ? 'The language model provider refused this request'
            : 'The language model provider failed while answering',
      },
      options,
    )
    this.name = 'ProviderError'
  }
}

/** Every provider in the chain failed or has an open breaker. */
export class LlmUnavailableError extends UnavailableError {
  constructor(
    retryAfterSeconds: number,
    readonly attempts: { provider: string; model: string; reason: string }[],
  ) {
    super('LLM_UNAVAILABLE', 'no language model provider is available', retryAfterSeconds)
    this.name = 'LlmUnavailableError'
  }
}

const CALLER_STATUSES = new Set([400, 413, 422])

function retryAfterMs(headers: unknown): number | undefined {
  const get = (name: string) =>
    headers && typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get(name)
      : ((headers as Record<string, string> | undefined)?.[name] ?? null)
  const value = get('retry-after-ms') ?? get('retry-after')
  if (value === null || value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return get('retry-after-ms') ? seconds : seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** Turns an SDK error (OpenAI or Anthropic: both carry `status` and `headers`) into a ProviderError. */
export function classifyProviderError(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error
  const { status, headers, name, message } = (error ?? {}) as {
    status?: number
    headers?: unknown
    name?: string
    message?: string
  }
  if (typeof status === 'number') {
    const kind = CALLER_STATUSES.has(status) ? 'caller' : 'failure'
    return new ProviderError(
      provider,
      kind,
      `${provider} answered ${status}`,
      status,
      retryAfterMs(headers),
      {
        cause: error,
      },
    )
  }
  const what = name === 'APIConnectionTimeoutError' || name === 'TimeoutError' ? 'timed out' : 'unreachable'
  return new ProviderError(
    provider,
    'failure',
    `${provider} ${what}: ${message ?? 'unknown error'}`,
    undefined,
    undefined,
    {
      cause: error,
    },
  )
}

/**
 * What a provider's SDK call threw, as the router must see it. An abort we caused (a deadline,
 * the first-token timeout, the caller leaving) is reported as its reason, since it says nothing
 * about the provider; anything else is classified.
 */
export function providerFailure(provider: string, error: unknown, signal: AbortSignal): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason
  return classifyProviderError(provider, error)
}

/** An answer ran past LLM_TIMEOUT_MS after it had started streaming (too late to fail over). */
export class LlmTimeoutError extends CodedError {
  constructor() {
    super('TIMEOUT', 'the answer ran past its deadline', { message: 'The answer ran past its deadline' })
    this.name = 'LlmTimeoutError'
  }
}
