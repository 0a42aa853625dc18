import type { FakeOpenAI } from '@tests/fakes/openai'
import { OpenAIProvider } from '@/lib/llm/providers/openai/chat'
import { LlmRouter } from '@/lib/llm/router'
import type { LlmTracer } from '@/lib/llm/tracing'
import { createLogger } from '@/lib/log'

/** A router whose only provider is the OpenAI SDK pointed at the fake (a breaker that rarely trips). */
export function fakeOpenAIRouter(fake: FakeOpenAI, options: { models?: string[]; tracer?: LlmTracer } = {}) {
  return new LlmRouter(
    [
      new OpenAIProvider({
        apiKey: fake.apiKey,
        baseURL: fake.baseURL,
        models: options.models ?? ['gpt-test'],
        timeoutMs: 5_000,
      }),
    ],
    { errorThresholdPercent: 50, volumeThreshold: 100, resetTimeoutMs: 1_000 },
    { timeoutMs: 5_000, firstTokenTimeoutMs: 2_000, retryAfterCapMs: 0 },
    createLogger('silent'),
    options.tracer,
  )
}
