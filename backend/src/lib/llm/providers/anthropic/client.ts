import Anthropic from '@anthropic-ai/sdk'

/** Where Anthropic is and how long one request may take. */
export interface AnthropicClientOptions {
  apiKey: string | undefined
  /** The host root: the SDK appends /v1/messages. */
  baseURL: string | undefined
  timeoutMs: number
}

/** The SDK client, its own retries off (retries and failover are the router's decision). */
export function createAnthropicClient(options: AnthropicClientOptions): Anthropic {
  return new Anthropic({
    // Without a key the SDK refuses to start; the request then fails (and fails over) instead.
    apiKey: options.apiKey ?? 'missing',
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  })
}
