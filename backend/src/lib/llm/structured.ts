import type { z } from 'zod'
import { ProviderError } from '@/lib/llm/errors'
import type { LlmRouter, Routed } from '@/lib/llm/router'
import type { TraceContext } from '@/lib/llm/tracing'
import type { ChatRequest } from '@/lib/llm/types'

export interface CompleteJsonOptions<T> {
  llm: Pick<LlmRouter, 'complete'>
  signal: AbortSignal
  trace: TraceContext
  /**
   * The answer when the local provider answered: it is not a language model and writes no
   * JSON, so the feature's own rule-based result stands in (and is returned as is).
   */
  localFallback: () => T
  /** Names what was asked for, in the error after two invalid answers. */
  what: string
}

/**
 * The JSON object in a model's answer (from its first `{` to its last `}`, so a sentence around
 * it does not matter), validated against the schema; null when there is none or it is invalid.
 */
export function parseJsonAnswer<S extends z.ZodType>(text: string, schema: S): z.output<S> | null {
  const start = text.indexOf('{')
  const end = text.lastIndexOf('}')
  if (start === -1 || end <= start) return null
  try {
    const parsed = schema.safeParse(JSON.parse(text.slice(start, end + 1)))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/**
 * A structured answer: asks for JSON, parses and validates it, asks once more when it is not
 * valid, and then fails (a ProviderError `failure`, so a 502) — model output is never passed on
 * unvalidated.
 */
export async function completeJson<S extends z.ZodType>(
  schema: S,
  request: ChatRequest,
  options: CompleteJsonOptions<z.output<S>>,
): Promise<{ value: z.output<S> } & Pick<Routed, 'provider' | 'model'>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await options.llm.complete({ ...request, json: true }, options.signal, options.trace)
    const value = answer.provider === 'local' ? options.localFallback() : parseJsonAnswer(answer.text, schema)
    if (value !== null) return { value, provider: answer.provider, model: answer.model }
  }
  throw new ProviderError('llm', 'failure', `the model answered twice without valid ${options.what}`)
}
