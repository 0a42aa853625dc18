import Anthropic from '@anthropic-ai/sdk'
import { type SdkClientOptions, sdkClientSettings } from '@/lib/llm/providers/sdk'

/** Where Anthropic is (`baseURL`: the host root, the SDK appends /v1/messages) and its timeout. */
export type AnthropicClientOptions = SdkClientOptions

/** The SDK client, its own retries off (see `sdkClientSettings`). */
export function createAnthropicClient(options: AnthropicClientOptions): Anthropic {
  // Without a key the SDK refuses to start; the request then fails (and fails over) instead.
  return new Anthropic(sdkClientSettings(options, 'missing'))
}
