import { Client } from 'langsmith'
import type { LlmRunRecord, LlmTracer } from '@/lib/llm/tracing'
import type { Logger } from '@/lib/log'

// Its own module, imported only when LANGSMITH_TRACING is on (create-router.ts): the SDK is a
// measurable part of every start-up (~50 ms of CPU), and most servers never trace.

/** Where the LangSmith SDK sends runs, and what they may carry. */
export interface LangSmithTracerOptions {
  /** LANGSMITH_ENDPOINT; undefined means the SDK's default. */
  apiUrl: string | undefined
  apiKey: string | undefined
  project: string
  /**
   * LANGSMITH_REDACT (default on): runs carry each text's length and a keyed hash instead of the
   * text. Chat messages, grounding passages and assessment results are personal data that should
   * not leave for a third party by default; equal fingerprints still show repeated inputs.
   */
  redact: boolean
  /**
   * LANGSMITH_REDACT_KEY: the HMAC key of the fingerprints. Unset: a random key per process, so
   * equal texts match only within one process's (one worker's, one run's) traces.
   */
  redactKey?: string | undefined
}

/** The fingerprint key when LANGSMITH_REDACT_KEY is unset: random, never leaves this process. */
const PROCESS_REDACT_KEY = crypto.getRandomValues(new Uint8Array(32))

/**
 * A text as a redacted trace shows it: its length and the first 16 hex digits of its
 * HMAC-SHA-256 under a server-side key. Keyed, because a plain hash of a short text (a score, a
 * "yes") can be confirmed offline by whoever holds the trace by hashing the guesses.
 */
export function textFingerprint(text: string, key: string | Uint8Array): { length: number; hmac: string } {
  return {
    length: text.length,
    hmac: new Bun.CryptoHasher('sha256', key).update(text).digest('hex').slice(0, 16),
  }
}

/** LangSmith through its SDK: one `llm` run per call, metadata for breakers and failover. */
export class LangSmithTracer implements LlmTracer {
  readonly #client: Client
  readonly #pending = new Set<Promise<unknown>>()
  readonly #project: string
  readonly #redact: boolean
  readonly #redactKey: string | Uint8Array

  constructor(
    options: LangSmithTracerOptions,
    private readonly logger: Logger,
  ) {
    this.#project = options.project
    this.#redact = options.redact
    this.#redactKey = options.redactKey ?? PROCESS_REDACT_KEY
    this.#client = new Client({
      apiUrl: options.apiUrl,
      apiKey: options.apiKey,
      // One POST per run, no background batch queue; a short timeout and a single retry so a
      // tracing outage costs nothing but a warning.
      autoBatchTracing: false,
      timeout_ms: 5_000,
      callerOptions: { maxRetries: 1 },
    })
  }

  #inputs(run: LlmRunRecord) {
    if (!this.#redact) return { messages: run.messages }
    return {
      messages: run.messages.map((m) => {
        const { length, hmac } = textFingerprint(m.content, this.#redactKey)
        return { role: m.role, content_length: length, content_hmac: hmac }
      }),
    }
  }

  #outputs(run: LlmRunRecord) {
    if (run.output === undefined) return undefined
    if (!this.#redact) return { text: run.output, usage: run.usage }
    const { length, hmac } = textFingerprint(run.output, this.#redactKey)
    return { text_length: length, text_hmac: hmac, usage: run.usage }
  }

  record(run: LlmRunRecord): void {
    const sent = this.#client
      .createRun({
        id: crypto.randomUUID(),
        name: `${run.context.feature}:${run.provider}`,
        run_type: 'llm',
        project_name: this.#project,
        inputs: this.#inputs(run),
        outputs: this.#outputs(run),
        error: run.error,
        start_time: run.startedAt,
        end_time: run.endedAt,
        extra: {
          metadata: {
            feature: run.context.feature,
            user_hash: run.context.userHash,
            provider: run.provider,
            model: run.model,
            breaker_state: run.breakerState,
            attempt: run.attempt,
            failed_over_from: run.failedOverFrom,
            latency_ms: Math.round(run.endedAt - run.startedAt),
            input_tokens: run.usage?.input_tokens,
            output_tokens: run.usage?.output_tokens,
            redacted: this.#redact,
          },
        },
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'tracing failed (requests are unaffected)'))
      .finally(() => this.#pending.delete(sent))
    this.#pending.add(sent)
  }

  async flush(timeoutMs: number): Promise<void> {
    let timer: Timer | undefined
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
  }
}
