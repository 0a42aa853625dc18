import type { BreakerThresholds } from '@/lib/breaker'
import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'
import type { Logger } from '@/lib/log'
import type { Embedder } from '@/lib/rag/embedder'

/** How long one embeddings request may take before it counts as a failure. */
export const EMBED_TIMEOUT_MS = 15_000

export interface EmbedderOptions {
  /** EMBEDDINGS_PROVIDER, already resolved (openai when an OpenAI key is set, else local). */
  provider: 'openai' | 'local'
  /** Used when `provider` is openai; `baseURL` includes `/v1`. */
  openai: { apiKey: string | undefined; baseURL: string | undefined; embedModel: string }
  breaker: BreakerThresholds
}

/**
 * The configured embedder: OpenAI behind its breaker, or the offline local one. The OpenAI SDK
 * is imported only when it is the one configured (it is a measurable part of a start-up).
 */
export async function createEmbedder(options: EmbedderOptions, logger: Logger): Promise<Embedder> {
  if (options.provider === 'openai') {
    const { OpenAIEmbedder } = await import('@/lib/llm/providers/openai/embeddings')
    const { apiKey, baseURL, embedModel } = options.openai
    return new OpenAIEmbedder(
      { apiKey, baseURL, model: embedModel, timeoutMs: EMBED_TIMEOUT_MS, breaker: options.breaker },
      logger,
    )
  }
  return new LocalEmbedder()
}
