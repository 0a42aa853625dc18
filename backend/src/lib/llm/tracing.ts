import type { ChatMessage, Usage } from '@/lib/llm/types'
import type { Logger } from '@/lib/log'

/** Who asked, for the trace: the feature and a hash of the user id (never the id itself). */
export interface TraceContext {
  feature: string
  userHash?: string
}

export interface LlmRunRecord {
  context: TraceContext
  provider: string
  model: string
  breakerState: string
  attempt: number
  failedOverFrom?: string
  messages: ChatMessage[]
  output?: string
  usage?: Usage
  error?: string
  startedAt: number
  endedAt: number
}

/** Records one run per LLM call. Never awaited on the request path, never able to fail one. */
export interface LlmTracer {
  record(run: LlmRunRecord): void
  /** Sends what is pending, waiting at most `timeoutMs` (called on shutdown). */
  flush(timeoutMs: number): Promise<void>
}

export class NoTracer implements LlmTracer {
  record(): void {}
  async flush(): Promise<void> {}
}

/**
 * Sends every run to each tracer (LangSmith, metrics, usage records). Each is guarded on its
 * own: one that throws neither reaches the router (a trace must never fail a call) nor stops
 * the tracers after it. Its first failure is logged (with `logger`), later ones only counted:
 * a tracer broken for good would otherwise log once per LLM call.
 */
export class CompositeTracer implements LlmTracer {
  readonly #failures: number[]

  constructor(
    private readonly tracers: LlmTracer[],
    private readonly logger?: Logger,
  ) {
    this.#failures = tracers.map(() => 0)
  }

  record(run: LlmRunRecord): void {
    this.tracers.forEach((tracer, index) => {
      try {
        tracer.record(run)
      } catch (error) {
        this.#failed(index, error)
      }
    })
  }

  /** Failures per tracer, in the constructor's order. */
  failures(): readonly number[] {
    return [...this.#failures]
  }

  async flush(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.tracers.map(async (tracer, index) => {
        try {
          await tracer.flush(timeoutMs)
        } catch (error) {
          this.#failed(index, error)
        }
      }),
    )
  }

  #failed(index: number, error: unknown): void {
    const count = (this.#failures[index] ?? 0) + 1
    this.#failures[index] = count
    if (count === 1) {
      this.logger?.warn(
        { err: error, tracer: this.tracers[index]?.constructor.name, index },
        'llm tracer failed (requests are unaffected; later failures of it are not logged)',
      )
    }
  }
}
