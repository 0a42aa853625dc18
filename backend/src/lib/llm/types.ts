export type ProviderName = 'local' | 'openai' | 'anthropic'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest {
  /** The conversation, system prompt first if any (Anthropic's separate system field is built from it). */
  messages: ChatMessage[]
  /** Grounding passages (knowledge, assessment results), kept apart so each provider can place them. */
  context?: string[]
  maxOutputTokens: number
  temperature?: number
  /** Ask for a JSON object as the whole answer. */
  json?: boolean
}

export interface Usage {
  input_tokens: number
  output_tokens: number
}

export interface Completion {
  text: string
  usage: Usage
  finishReason: string
}

/** What a provider's stream yields: text deltas, then one final `done`. */
export type StreamChunk =
  | { type: 'delta'; text: string }
  | { type: 'done'; usage: Usage; finishReason: string }

/**
 * One LLM provider, same shape for each (`providers/<name>/`). The signal aborts the upstream
 * request (the client left, or a deadline passed). Failures are thrown as `ProviderError`.
 */
export interface LlmProvider {
  readonly name: ProviderName
  /** The chat model, then its fallback model if configured. */
  readonly models: readonly string[]
  complete(model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion>
  stream(model: string, request: ChatRequest, signal: AbortSignal): AsyncIterable<StreamChunk>
}

/**
 * The messages a model sees: the context passages are appended to the system prompt (or
 * become one). The local provider reads `context` directly instead.
 */
export function withContext(request: ChatRequest): ChatMessage[] {
  if (!request.context || request.context.length === 0) return request.messages
  const passages = `Passages:\n${request.context.map((p) => `- ${p.replace(/\s+/g, ' ').trim()}`).join('\n')}`
  const [first, ...rest] = request.messages
  if (first?.role === 'system')
    return [{ role: 'system', content: `${first.content}\n\n${passages}` }, ...rest]
  return [{ role: 'system', content: passages }, ...request.messages]
}
