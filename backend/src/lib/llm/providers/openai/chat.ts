import type OpenAI from 'openai'
import { providerFailure } from '@/lib/llm/errors'
import { createOpenAIClient, type OpenAIClientOptions } from '@/lib/llm/providers/openai/client'
import {
  type ChatRequest,
  type Completion,
  type LlmProvider,
  type StreamChunk,
  withContext,
} from '@/lib/llm/types'

export interface OpenAIProviderOptions extends OpenAIClientOptions {
  /** The chat model, then its fallback model if any. */
  models: string[]
}

/** OpenAI chat completions through the official SDK. */
export class OpenAIProvider implements LlmProvider {
  readonly name = 'openai'
  readonly models: readonly string[]
  readonly #client: OpenAI

  constructor(options: OpenAIProviderOptions) {
    this.models = options.models
    this.#client = createOpenAIClient(options)
  }

  async complete(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion> {
    try {
      const response = await this.#client.chat.completions.create(
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
        finishReason: choice?.finish_reason ?? 'stop',
      }
    } catch (error) {
      throw providerFailure(this.name, error, signal)
    }
  }

  async *stream(model: string, request: ChatRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    let finishReason = 'stop'
    let usage = { input_tokens: 0, output_tokens: 0 }
    try {
      const stream = await this.#client.chat.completions.create(
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
        if (text) yield { type: 'delta', text }
        if (choice?.finish_reason) finishReason = choice.finish_reason
        if (chunk.usage) {
          usage = { input_tokens: chunk.usage.prompt_tokens, output_tokens: chunk.usage.completion_tokens }
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
