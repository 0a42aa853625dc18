import type { Config } from '@/config'
import type { Logger } from '@/lib/log'
import type { Embedder } from '@/lib/rag/embedder'
import { LocalEmbedder } from '@/lib/rag/local-embedder'
import { OpenAIEmbedder } from '@/lib/rag/openai-embedder'

/** How long one embeddings request may take before it counts as a failure. */
export const EMBED_TIMEOUT_MS = 15_000

/** EMBEDDINGS_PROVIDER chooses; the default is openai when an OpenAI key is set, else local. */
export function createEmbedder(config: Config, logger: Logger): Embedder {
  if (config.EMBEDDINGS_PROVIDER === 'openai') {
    return new OpenAIEmbedder(
      {
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.OPENAI_BASE_URL,
        model: config.OPENAI_EMBED_MODEL,
        timeoutMs: EMBED_TIMEOUT_MS,
        breaker: {
          errorThresholdPercent: config.BREAKER_ERROR_THRESHOLD_PERCENT,
          volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
          resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
        },
      },
      logger,
    )
  }
  return new LocalEmbedder()
}
