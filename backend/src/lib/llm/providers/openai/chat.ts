import type OpenAI from 'openai'
import { createOpenAIClient, type OpenAIClientOptions } from '@/lib/llm/providers/openai/client'
import { SdkProvider, type StreamTally } from '@/lib/llm/providers/sdk'
import { type ChatRequest, type Completion, withContext } from '@/lib/llm/types'

export interface OpenAIProviderOptions extends OpenAIClientOptions {
  /** The chat model, then its fallback model if any. */
  models: string[]
}

/** OpenAI chat completions through the official SDK. */
export class OpenAIProvider extends SdkProvider<OpenAI> {
  constructor(options: OpenAIProviderOptions) {
    super('openai', options.models, createOpenAIClient(options), 'stop')
  }

  protected async answer(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion> {
    const response = await this.client.chat.completions.create(
      {
        model,
        messages: withContext(request),
        max_tokens: request.maxOutputTokens,
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
        ...(request.json ? { response_format: { type: 'json_object' as const } } : {}),
      },
      { signal },
    )
    const choice = response.choices[0]
    return {
      text: choice?.message?.content ?? '',
      usage: {
        input_tokens: response.usage?.prompt_tokens ?? 0,
        output_tokens: response.usage?.completion_tokens ?? 0,
      },
      finishReason: choice?.finish_reason ?? this.defaultFinishReason,
    }
  }

  protected async *deltas(model: string, request: ChatRequest, signal: AbortSignal, tally: StreamTally) {
    const stream = await this.client.chat.completions.create(
      {
        model,
        messages: withContext(request),
        max_tokens: request.maxOutputTokens,
        stream: true,
        stream_options: { include_usage: true },
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      },
      { signal },
    )
    for await (const chunk of stream) {
      const choice = chunk.choices[0]
      const text = choice?.delta?.content
      if (text) yield text
      if (choice?.finish_reason) tally.finishReason = choice.finish_reason
      if (chunk.usage) {
        tally.usage = {
          input_tokens: chunk.usage.prompt_tokens,
          output_tokens: chunk.usage.completion_tokens,
        }
      }
    }
  }
}
