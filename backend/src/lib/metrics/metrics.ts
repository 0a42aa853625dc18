import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { AUTH_UPSTREAM_BUCKETS } from '@/lib/auth/token-cache'
import type { BreakerStats } from '@/lib/breaker'
import type { LlmRunRecord, LlmTracer } from '@/lib/llm/tracing'
import { bucketsOf, type HistogramValues, quantileMs } from '@/lib/metrics/quantile'
import type { RateLimitRecorder } from '@/lib/ratelimit/limiter'

const DB_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const BREAKER_STATE = { closed: 0, half_open: 1, open: 2 } as const

export interface MetricSources {
  authCache: () => {
    hits: number
    misses: number
    size: number
    evictions: number
    negative_hits: number
    /** Verifications that got no answer (TokenCache's `upstream_errors`). */
    upstream_errors: number
  }
  breakers: () => BreakerStats[]
}

/**
 * The process's Prometheus metrics (prom-client). HTTP and LLM measurements are recorded as
 * they happen; cache and breaker figures are read from their owners at scrape time.
 * `/api/v1/admin/stats` derives its percentiles from the same histograms.
 */
export class Metrics {
  readonly registry = new Registry()
  readonly #httpRequests: Counter<'route' | 'method' | 'status'>
  readonly #httpDuration: Histogram<'route' | 'method' | 'status'>
  readonly #llmTokens: Counter<'provider' | 'model' | 'direction'>
  readonly #llmDuration: Histogram<'provider' | 'model' | 'outcome'>
  readonly #rateLimitRejections: Counter<'policy'>
  readonly #rateLimitStoreFailures: Counter<'policy' | 'outcome'>
  readonly #dbQueryDuration: Histogram<'statement' | 'outcome'>
  /** Token verifications (cache misses): the auth cache observes into it. */
  readonly authUpstreamDuration: Histogram
  #inFlight: (() => number) | undefined

  constructor(private readonly sources: MetricSources) {
    const registers = [this.registry]
    this.#httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    })
    this.#httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    })
    this.#llmTokens = new Counter({
      name: 'llm_tokens_total',
      help: 'LLM tokens by provider, model and direction (input|output)',
      labelNames: ['provider', 'model', 'direction'],
      registers,
    })
    this.#llmDuration = new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'LLM call latency by provider, model and outcome (ok|error)',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    })
    this.#rateLimitRejections = new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests refused with 429 by rate-limit policy',
      labelNames: ['policy'],
      registers,
    })
    this.#rateLimitStoreFailures = new Counter({
      name: 'rate_limit_store_failures_total',
      help: 'Rate-limit checks the store could not answer (Redis down or slow), by policy and what was done (fail_open|fail_closed)',
      labelNames: ['policy', 'outcome'],
      registers,
    })
    this.#dbQueryDuration = new Histogram({
      name: 'db_query_duration_seconds',
      help: 'Database statement latency by statement kind (select|insert|update|delete|other) and outcome (ok|error)',
      labelNames: ['statement', 'outcome'],
      buckets: DB_BUCKETS,
      registers,
    })
    this.authUpstreamDuration = new Histogram({
      name: 'auth_upstream_duration_seconds',
      help: 'Token verification latency on auth cache misses (Supabase Auth, or the local signature check)',
      buckets: AUTH_UPSTREAM_BUCKETS,
      registers,
    })
    new Gauge({
      name: 'auth_cache_entries',
      help: 'Tokens in the auth cache',
      registers,
      collect() {
        this.set(sources.authCache().size)
      },
    })
    new Gauge({
      name: 'auth_cache_lookups',
      help: 'Auth cache lookups since start, by result (hit|miss|negative_hit|eviction)',
      labelNames: ['result'],
      registers,
      collect() {
        const s = sources.authCache()
        this.set({ result: 'hit' }, s.hits)
        this.set({ result: 'miss' }, s.misses)
        this.set({ result: 'negative_hit' }, s.negative_hits)
        this.set({ result: 'eviction' }, s.evictions)
      },
    })
    // A counter read from the cache at scrape time (like auth_cache_lookups, but typed as the
    // counter it is): verifications the auth server, its breaker or the session store left
    // unanswered. A refused token is an answer, and is not counted.
    new Counter({
      name: 'auth_upstream_errors_total',
      help: 'Token verifications on auth cache misses that failed for want of an answer (auth server down, its breaker open, session store unavailable); refused tokens are not errors',
      registers,
      collect() {
        this.reset()
        this.inc(sources.authCache().upstream_errors)
      },
    })
    // Read from the HTTP server at scrape time (Bun counts them): nothing on the request path.
    const metrics = this
    new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served right now, this scrape included',
      registers,
      collect() {
        this.set(metrics.#inFlight?.() ?? 0)
      },
    })
    new Gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open',
      labelNames: ['name'],
      registers,
      collect() {
        for (const b of sources.breakers()) this.set({ name: b.name }, BREAKER_STATE[b.state])
      },
    })
  }

  /** Where `http_requests_in_flight` is read from, once the server listens (index.ts). */
  readInFlightFrom(count: () => number): void {
    this.#inFlight = count
  }

  /** Every breaker's state and counters. */
  breakerStats(): BreakerStats[] {
    return this.sources.breakers()
  }

  observeHttp(route: string, method: string, status: number, seconds: number): void {
    const labels = { route, method, status: String(status) }
    this.#httpRequests.inc(labels)
    this.#httpDuration.observe(labels, seconds)
  }

  /** Where the rate limiter reports refusals and store failures. */
  rateLimitRecorder(): RateLimitRecorder {
    return {
      rejected: (policy) => this.#rateLimitRejections.inc({ policy }),
      storeFailure: (policy, outcome) => this.#rateLimitStoreFailures.inc({ policy, outcome }),
    }
  }

  /** Requests refused by any rate-limit policy since start. */
  async rateLimitRejections(): Promise<number> {
    const metric = await this.#rateLimitRejections.get()
    return metric.values.reduce((sum, v) => sum + v.value, 0)
  }

  observeDbQuery(statement: string, ok: boolean, seconds: number): void {
    this.#dbQueryDuration.observe({ statement, outcome: ok ? 'ok' : 'error' }, seconds)
  }

  /** A tracer that turns every LLM run into token counts and a latency observation. */
  llmRecorder(): LlmTracer {
    return {
      record: (run: LlmRunRecord) => {
        const labels = { provider: run.provider, model: run.model }
        this.#llmDuration.observe(
          { ...labels, outcome: run.error ? 'error' : 'ok' },
          (run.endedAt - run.startedAt) / 1000,
        )
        if (run.usage) {
          this.#llmTokens.inc({ ...labels, direction: 'input' }, run.usage.input_tokens)
          this.#llmTokens.inc({ ...labels, direction: 'output' }, run.usage.output_tokens)
        }
      },
      flush: async () => {},
    }
  }

  /** Per-route count, errors (5xx) and p50/p95/p99, estimated from the duration histogram. */
  async httpRoutes() {
    const metric = (await this.registry.getSingleMetric('http_request_duration_seconds')?.get()) as
      | HistogramValues
      | undefined
    return [...bucketsOf(metric, (labels) => String(labels.route))].map(([route, e]) => ({
      route,
      count: e.count,
      errors: e.errors,
      p50_ms: quantileMs(e, 0.5),
      p95_ms: quantileMs(e, 0.95),
      p99_ms: quantileMs(e, 0.99),
    }))
  }
}
