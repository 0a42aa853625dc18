import type { BreakerStats } from '@/lib/breaker'
import { UnavailableError } from '@/lib/errors/unavailable'

/** Every embedding in the knowledge base has this many dimensions (OpenAI text-embedding-3-small). */
export const EMBEDDING_DIMENSIONS = 1536

/** Turns texts into unit-length vectors of `EMBEDDING_DIMENSIONS`. */
export interface Embedder {
  readonly provider: 'local' | 'openai'
  /** Recorded with every stored vector; vectors of different models are never compared. */
  readonly model: string
  /**
   * The similarity threshold used when a query names none. Similarity scales differ by model:
   * 0.5 suits OpenAI's; the local bag-of-words embedder scores related passages 0.2–0.5.
   */
  readonly defaultThreshold: number
  /** One vector per text, in order. Throws `EmbedderUnavailableError` when it cannot. */
  embed(texts: string[]): Promise<number[][]>
  /**
   * Breaker state of the upstream, where there is one; `failedAtStartup` when start-up's calls
   * failed and none has succeeded since (set by `ObservedEmbedder`, which wraps every embedder).
   */
  health(): { breaker?: 'closed' | 'open' | 'half_open'; failedAtStartup?: boolean }
  /** Breaker counters, where there is a breaker. */
  breakerStats?(): BreakerStats
}

/** The embedder could not produce vectors; search degrades to lexical, ingest stores none. */
export class EmbedderUnavailableError extends UnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LLM_UNAVAILABLE', message, 5, {
      cause: options?.cause,
      publicMessage: 'The embedding provider is unavailable',
    })
    this.name = 'EmbedderUnavailableError'
  }
}

/** Checks a vector before it reaches SQL: right length, finite numbers. */
export function assertEmbedding(vector: readonly number[]): void {
  if (vector.length !== EMBEDDING_DIMENSIONS) {
    throw new EmbedderUnavailableError(
      `embedding has ${vector.length} dimensions, expected ${EMBEDDING_DIMENSIONS}`,
    )
  }
  for (const value of vector) {
    if (!Number.isFinite(value)) throw new EmbedderUnavailableError('embedding contains a non-finite number')
  }
}

/** pgvector's text form, bound as `$n::text` and cast to the vector type (in whichever schema pgvector lives). */
export function toVectorLiteral(vector: readonly number[]): string {
  assertEmbedding(vector)
  return `[${vector.join(',')}]`
}
