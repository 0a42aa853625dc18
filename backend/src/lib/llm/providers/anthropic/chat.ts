import type Anthropic from '@anthropic-ai/sdk'
import { providerFailure } from '@/lib/llm/errors'
import { type AnthropicClientOptions, createAnthropicClient } from '@/lib/llm/providers/anthropic/client'
import {
  type ChatRequest,
  type Completion,
  type LlmProvider,
  type StreamChunk,
  withContext,
} from '@/lib/llm/types'

export interface AnthropicProviderOptions extends AnthropicClientOptions {
  /** The chat model, then its fallback model if any. */
  models: string[]
}

/** Anthropic's separate `system` field: system messages are joined into it, the rest stay in order. */
function toAnthropic(request: ChatRequest) {
  const all = withContext(request)
  const system = all
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n')
  const messages = all
    .filter((m): m is { role: 'user' | 'assistant'; content: string } => m.role !== 'system')
    .map((m) => ({ role: m.role, content: m.content }))
  return {
    ...(system ? { system } : {}),
    messages,
    max_tokens: request.maxOutputTokens,
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
  }
}

/** Anthropic messages through the official SDK. */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic'
  readonly models: readonly string[]
  readonly #client: Anthropic

  constructor(options: AnthropicProviderOptions) {
    this.models = options.models
    this.#client = createAnthropicClient(options)
  }

  async complete(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion> {
    try {
      const response = await this.#client.messages.create({ model, ...toAnthropic(request) }, { signal })
      const text = response.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
      return {
        text,
        usage: { input_tokens: response.usage.input_tokens, output_tokens: response.usage.output_tokens },
        finishReason: response.stop_reason ?? 'end_turn',
      }
    } catch (error) {
      throw providerFailure(this.name, error, signal)
    }
  }

  async *stream(model: string, request: ChatRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    let usage = { input_tokens: 0, output_tokens: 0 }
    let finishReason = 'end_turn'
    try {
      const stream = await this.#client.messages.create(
        { model, ...toAnthropic(request), stream: true },
        { signal },
      )
      for await (const event of stream) {
        if (event.type === 'message_start')
          usage = { ...usage, input_tokens: event.message.usage.input_tokens }
        else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          yield { type: 'delta', text: event.delta.text }
        } else if (event.type === 'message_delta') {
          usage = { ...usage, output_tokens: event.usage.output_tokens }
          if (event.delta.stop_reason) finishReason = event.delta.stop_reason
        }
      }
    } catch (error) {
      throw providerFailure(this.name, error, signal)
    }
    // The SDK ends a stream quietly when it is aborted; that is not a finished answer.
    signal.throwIfAborted()
    yield { type: 'done', usage, finishReason }
  }
}
