import type OpenAI from 'openai'
import { Breaker, type BreakerThresholds } from '@/lib/breaker'
import { createOpenAIClient, type OpenAIClientOptions } from '@/lib/llm/providers/openai/client'
import type { Logger } from '@/lib/log'
import {
  assertEmbedding,
  EMBEDDING_DIMENSIONS,
  type Embedder,
  EmbedderUnavailableError,
} from '@/lib/rag/embedder'

export interface OpenAIEmbedderOptions extends OpenAIClientOptions {
  /** OPENAI_EMBED_MODEL; must produce EMBEDDING_DIMENSIONS dimensions. */
  model: string
  breaker: BreakerThresholds
}

/** Inputs per request: the API allows 2,048, but smaller batches fail and retry more cheaply. */
export const EMBED_BATCH_SIZE = 96
/** The API limit is 8,191 tokens per input; ~4 characters a token, with a margin. */
const MAX_INPUT_CHARS = 24_000

/**
 * OpenAI embeddings through the official SDK (`OPENAI_BASE_URL` honoured), batched, behind its
 * own breaker. No SDK retries: a failure degrades search to lexical at once instead of holding
 * the request.
 */
export class OpenAIEmbedder implements Embedder {
  readonly provider = 'openai'
  readonly defaultThreshold = 0.5
  readonly model: string
  readonly #client: OpenAI
  readonly #breaker: Breaker<[string[]], number[][]>

  constructor(options: OpenAIEmbedderOptions, logger: Logger) {
    this.model = options.model
    this.#client = createOpenAIClient(options)
    this.#breaker = new Breaker(
      (batch: string[]) => this.#request(batch),
      {
        ...options.breaker,
        name: 'openai-embeddings',
        timeoutMs: options.timeoutMs + 1_000,
      },
      logger,
    )
  }

  async embed(texts: string[]): Promise<number[][]> {
    const vectors: number[][] = []
    for (let i = 0; i < texts.length; i += EMBED_BATCH_SIZE) {
      const batch = texts.slice(i, i + EMBED_BATCH_SIZE).map((t) => t.slice(0, MAX_INPUT_CHARS))
      try {
        vectors.push(...(await this.#breaker.fire(batch)))
      } catch (error) {
        if (error instanceof EmbedderUnavailableError) throw error
        throw new EmbedderUnavailableError('embedding provider unavailable', { cause: error })
      }
    }
    return vectors
  }

  health() {
    return { breaker: this.#breaker.state() }
  }

  breakerStats() {
    return this.#breaker.stats()
  }

  async #request(batch: string[]): Promise<number[][]> {
    const response = await this.#client.embeddings.create({
      model: this.model,
      input: batch,
      // Only the text-embedding-3 family accepts a size; other (compatible) models must
      // already produce 1536 dimensions, which assertEmbedding checks.
      ...(this.model.startsWith('text-embedding-3') ? { dimensions: EMBEDDING_DIMENSIONS } : {}),
      encoding_format: 'float',
    })
    const ordered = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding)
    if (ordered.length !== batch.length) {
      throw new EmbedderUnavailableError(`asked for ${batch.length} embeddings, got ${ordered.length}`)
    }
    for (const vector of ordered) assertEmbedding(vector)
    return ordered
  }
}
