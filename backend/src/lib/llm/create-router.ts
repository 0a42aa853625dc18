import type { Config } from '@/config'
import { AnthropicProvider } from '@/lib/llm/providers/anthropic/provider'
import { LocalProvider } from '@/lib/llm/providers/local/provider'
import { OpenAIProvider } from '@/lib/llm/providers/openai/provider'
import { LlmRouter } from '@/lib/llm/router'
import { CompositeTracer, LangSmithTracer, type LlmTracer, NoTracer } from '@/lib/llm/tracing'
import type { LlmProvider, ProviderName } from '@/lib/llm/types'
import type { Logger } from '@/lib/log'

/** A 429 asking to come back within this long is waited out once on the same model. */
export const RETRY_AFTER_CAP_MS = 2_000

function provider(name: ProviderName, config: Config): LlmProvider {
  const models = (chat: string, fallback: string | undefined) =>
    fallback && fallback !== chat ? [chat, fallback] : [chat]
  switch (name) {
    case 'openai':
      return new OpenAIProvider({
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.OPENAI_BASE_URL,
        models: models(config.OPENAI_CHAT_MODEL, config.OPENAI_CHAT_FALLBACK_MODEL),
        timeoutMs: config.LLM_TIMEOUT_MS,
      })
    case 'anthropic':
      return new AnthropicProvider({
        apiKey: config.ANTHROPIC_API_KEY,
        baseURL: config.ANTHROPIC_BASE_URL,
        models: models(config.ANTHROPIC_CHAT_MODEL, config.ANTHROPIC_CHAT_FALLBACK_MODEL),
        timeoutMs: config.LLM_TIMEOUT_MS,
      })
    case 'local':
      return new LocalProvider()
  }
}

/** The failover router over LLM_PROVIDER then LLM_FALLBACK_PROVIDERS, one breaker each. */
export function createLlmRouter(config: Config, logger: Logger, extraTracer?: LlmTracer): LlmRouter {
  const langsmith = config.LANGSMITH_TRACING
    ? new LangSmithTracer(
        {
          apiUrl: config.LANGSMITH_ENDPOINT,
          apiKey: config.LANGSMITH_API_KEY,
          project: config.LANGSMITH_PROJECT,
        },
        logger,
      )
    : new NoTracer()
  return new LlmRouter(
    config.llmChain.map((name) => provider(name, config)),
    {
      errorThresholdPercent: config.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
    },
    {
      timeoutMs: config.LLM_TIMEOUT_MS,
      firstTokenTimeoutMs: config.LLM_FIRST_TOKEN_TIMEOUT_MS,
      retryAfterCapMs: RETRY_AFTER_CAP_MS,
    },
    logger,
    extraTracer ? new CompositeTracer([langsmith, extraTracer]) : langsmith,
  )
}
