import { providerFailure } from '@/lib/llm/errors'
import type { ChatRequest, Completion, LlmProvider, ProviderName, StreamChunk, Usage } from '@/lib/llm/types'

/** Where a hosted provider (or a server compatible with it) is and how long one request may take. */
export interface SdkClientOptions {
  apiKey: string | undefined
  /** The SDK's base URL; each provider's client says what it must include. */
  baseURL: string | undefined
  timeoutMs: number
}

/**
 * The constructor options both official SDKs take. Their own retries are off: retries and
 * failover are the router's and the breakers' decisions, and a hidden retry would hold the request.
 * `placeholderKey` stands in for a missing key, which the SDKs refuse to start without.
 */
export function sdkClientSettings(options: SdkClientOptions, placeholderKey: string) {
  return {
    apiKey: options.apiKey ?? placeholderKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  }
}

/** What a streamed answer has reported so far; the provider's `deltas` updates it as events arrive. */
export interface StreamTally {
  usage: Usage
  finishReason: string
}

/**
 * What the SDK-backed providers share: every SDK error goes through `providerFailure` once, and
 * a stream ends in `done` only when it really finished. A provider supplies the two requests.
 */
export abstract class SdkProvider<Client> implements LlmProvider {
  constructor(
    readonly name: ProviderName,
    readonly models: readonly string[],
    protected readonly client: Client,
    /** The finish reason when the SDK reports none. */
    protected readonly defaultFinishReason: string,
  ) {}

  /** One whole answer. */
  protected abstract answer(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion>

  /** The answer's text as it streams, reporting usage and the finish reason into `tally`. */
  protected abstract deltas(
    model: string,
    request: ChatRequest,
    signal: AbortSignal,
    tally: StreamTally,
  ): AsyncIterable<string>

  async complete(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion> {
    try {
      return await this.answer(model, request, signal)
    } catch (error) {
      throw providerFailure(this.name, error, signal)
    }
  }

  async *stream(model: string, request: ChatRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const tally: StreamTally = {
      usage: { input_tokens: 0, output_tokens: 0 },
      finishReason: this.defaultFinishReason,
    }
    try {
      for await (const text of this.deltas(model, request, signal, tally)) yield { type: 'delta', text }
    } catch (error) {
      throw providerFailure(this.name, error, signal)
    }
    // The SDK ends a stream quietly when it is aborted; that is not a finished answer.
    signal.throwIfAborted()
    yield { type: 'done', usage: tally.usage, finishReason: tally.finishReason }
  }
}
