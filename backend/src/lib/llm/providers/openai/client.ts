import OpenAI from 'openai'

/** Where OpenAI (or an OpenAI-compatible server) is and how long one request may take. */
export interface OpenAIClientOptions {
  apiKey: string | undefined
  /** OpenAI-compatible servers (Ollama, vLLM) work through this; it includes `/v1`. */
  baseURL: string | undefined
  timeoutMs: number
}

/**
 * The SDK client for chat and embeddings alike. Its own retries are off: retries and failover
 * are the router's and the breakers' decisions, and a hidden retry would hold the request.
 */
export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    // Compatible servers often need no key, but the SDK refuses to start without one.
    apiKey: options.apiKey ?? 'not-needed-for-this-server',
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  })
}
