import type { BreakerThresholds } from '@/lib/breaker'
import { LocalProvider } from '@/lib/llm/providers/local/chat'
import { LlmRouter } from '@/lib/llm/router'
import { CompositeTracer, type LlmTracer, NoTracer } from '@/lib/llm/tracing'
import type { LlmProvider, ProviderName } from '@/lib/llm/types'
import type { Logger } from '@/lib/log'

/** A 429 asking to come back within this long is waited out once on the same model. */
export const RETRY_AFTER_CAP_MS = 2_000

/** One hosted provider (OpenAI or Anthropic, or a server compatible with either). */
export interface ChatProviderOptions {
  apiKey: string | undefined
  /** OpenAI's includes `/v1`; Anthropic's is the host root. */
  baseURL: string | undefined
  chatModel: string
  /** Tried after `chatModel` fails; ignored when unset or the same. */
  chatFallbackModel?: string | undefined
}

export interface LlmRouterOptions {
  /** Providers in failover order, without repeats (LLM_PROVIDER, then LLM_FALLBACK_PROVIDERS). */
  chain: readonly ProviderName[]
  /** Whole-answer deadline per attempt, also the SDKs' own timeout (LLM_TIMEOUT_MS). */
  timeoutMs: number
  /** A stream must yield its first chunk within this (LLM_FIRST_TOKEN_TIMEOUT_MS). */
  firstTokenTimeoutMs: number
  openai: ChatProviderOptions
  anthropic: ChatProviderOptions
  /**
   * LangSmith tracing (LANGSMITH_*); `endpoint` unset means the SDK's default; `redact`
   * (LANGSMITH_REDACT) sends texts' lengths and keyed hashes instead of the texts, keyed with
   * `redactKey` (LANGSMITH_REDACT_KEY; unset: a random key per process).
   */
  langsmith: {
    enabled: boolean
    apiKey: string | undefined
    endpoint: string | undefined
    project: string
    redact: boolean
    redactKey: string | undefined
  }
  /** One breaker per provider, all with these thresholds. */
  breaker: BreakerThresholds
}

// The SDK providers and the LangSmith tracer are imported only when configured: their SDKs are
// ~0.15 s of every start-up's CPU, and the default (local) configuration uses none of them.
async function provider(name: ProviderName, options: LlmRouterOptions): Promise<LlmProvider> {
  const models = ({ chatModel, chatFallbackModel }: ChatProviderOptions) =>
    chatFallbackModel && chatFallbackModel !== chatModel ? [chatModel, chatFallbackModel] : [chatModel]
  switch (name) {
    case 'openai': {
      const { OpenAIProvider } = await import('@/lib/llm/providers/openai/chat')
      return new OpenAIProvider({
        ...options.openai,
        models: models(options.openai),
        timeoutMs: options.timeoutMs,
      })
    }
    case 'anthropic': {
      const { AnthropicProvider } = await import('@/lib/llm/providers/anthropic/chat')
      return new AnthropicProvider({
        ...options.anthropic,
        models: models(options.anthropic),
        timeoutMs: options.timeoutMs,
      })
    }
    case 'local':
      return new LocalProvider()
  }
}

/** The failover router over `chain`, one breaker each, tracing to LangSmith when enabled. */
export async function createLlmRouter(
  options: LlmRouterOptions,
  logger: Logger,
  extraTracer?: LlmTracer,
): Promise<LlmRouter> {
  const { langsmith } = options
  const traced = langsmith.enabled
    ? new (await import('@/lib/llm/langsmith-tracer')).LangSmithTracer(
        {
          apiUrl: langsmith.endpoint,
          apiKey: langsmith.apiKey,
          project: langsmith.project,
          redact: langsmith.redact,
          redactKey: langsmith.redactKey,
        },
        logger,
      )
    : new NoTracer()
  return new LlmRouter(
    await Promise.all(options.chain.map((name) => provider(name, options))),
    options.breaker,
    {
      timeoutMs: options.timeoutMs,
      firstTokenTimeoutMs: options.firstTokenTimeoutMs,
      retryAfterCapMs: RETRY_AFTER_CAP_MS,
    },
    logger,
    extraTracer ? new CompositeTracer([traced, extraTracer], logger) : traced,
  )
}
