import type Anthropic from '@anthropic-ai/sdk'
import { type AnthropicClientOptions, createAnthropicClient } from '@/lib/llm/providers/anthropic/client'
import { SdkProvider, type StreamTally } from '@/lib/llm/providers/sdk'
import { type ChatRequest, type Completion, withContext } from '@/lib/llm/types'

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
export class AnthropicProvider extends SdkProvider<Anthropic> {
  constructor(options: AnthropicProviderOptions) {
    super('anthropic', options.models, createAnthropicClient(options), 'end_turn')
  }

  protected async answer(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion> {
    const response = await this.client.messages.create({ model, ...toAnthropic(request) }, { signal })
    const text = response.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    return {
      text,
      usage: { input_tokens: response.usage.input_tokens, output_tokens: response.usage.output_tokens },
      finishReason: response.stop_reason ?? this.defaultFinishReason,
    }
  }

  protected async *deltas(model: string, request: ChatRequest, signal: AbortSignal, tally: StreamTally) {
    const stream = await this.client.messages.create(
      { model, ...toAnthropic(request), stream: true },
      { signal },
    )
    for await (const event of stream) {
      if (event.type === 'message_start') {
        tally.usage = { ...tally.usage, input_tokens: event.message.usage.input_tokens }
      } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        yield event.delta.text
      } else if (event.type === 'message_delta') {
        tally.usage = { ...tally.usage, output_tokens: event.usage.output_tokens }
        if (event.delta.stop_reason) tally.finishReason = event.delta.stop_reason
      }
    }
  }
}
