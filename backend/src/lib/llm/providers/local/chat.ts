import { tokenize } from '@/lib/llm/providers/local/embeddings'
import type { ChatRequest, Completion, LlmProvider, StreamChunk } from '@/lib/llm/types'

export const LOCAL_MODEL = 'local-extractive-v1'
const PREAMBLE = '[local provider: offline and rule-based, no language model] '

function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[A-Z#])/)
    .map((s) => s.replace(/^#+\s*/, '').trim())
    .filter((s) => s.length > 20 && s.length < 600)
}

/**
 * The offline provider, for running with no keys at all. Deterministic and extractive: it
 * answers with the sentences of the supplied context (knowledge passages, assessment results)
 * that share most words with the user's last message, and says in
 * every answer that it is local. It never pretends to be a language model.
 */
export function composeLocalAnswer(request: ChatRequest): string {
  const question = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
  // Only the supplied context: instructions in the system prompt are not material to quote.
  const context = (request.context ?? []).join('\n')
  const wanted = new Set(tokenize(question))
  const ranked = sentences(context)
    .map((sentence, index) => ({
      sentence,
      index,
      score: tokenize(sentence).filter((t) => wanted.has(t)).length,
    }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
  const chosen = ranked.filter((r) => r.score > 0).slice(0, 4)
  const picked = (chosen.length > 0 ? chosen : ranked.slice(0, 2)).sort((a, b) => a.index - b.index)
  if (picked.length === 0) {
    return `${PREAMBLE}I have no material on that yet. Ask about a PILAR pillar or force, or complete an assessment for coaching.`
  }
  return `${PREAMBLE}${picked.map((p) => p.sentence).join(' ')}`
}

const roughTokens = (text: string) => Math.ceil(text.length / 4)

export class LocalProvider implements LlmProvider {
  readonly name = 'local'
  readonly models = [LOCAL_MODEL]

  async complete(_model: string, request: ChatRequest, signal: AbortSignal): Promise<Completion> {
    signal.throwIfAborted()
    const text = composeLocalAnswer(request).slice(0, request.maxOutputTokens * 4)
    return {
      text,
      usage: {
        input_tokens: roughTokens(request.messages.map((m) => m.content).join('')),
        output_tokens: roughTokens(text),
      },
      finishReason: 'stop',
    }
  }

  async *stream(model: string, request: ChatRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const { text, usage, finishReason } = await this.complete(model, request, signal)
    const words = text.split(/(?<=\s)/)
    for (let i = 0; i < words.length; i += 4) {
      signal.throwIfAborted()
      yield { type: 'delta', text: words.slice(i, i + 4).join('') }
    }
    yield { type: 'done', usage, finishReason }
  }
}
