import OpenAI from 'openai'
import { type SdkClientOptions, sdkClientSettings } from '@/lib/llm/providers/sdk'

/**
 * Where OpenAI (or an OpenAI-compatible server) is and its timeout. `baseURL` includes `/v1`;
 * compatible servers (Ollama, vLLM) work through it.
 */
export type OpenAIClientOptions = SdkClientOptions

/** The SDK client for chat and embeddings alike, its own retries off (see `sdkClientSettings`). */
export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  // Compatible servers often need no key, but the SDK refuses to start without one.
  return new OpenAI(sdkClientSettings(options, 'not-needed-for-this-server'))
}
