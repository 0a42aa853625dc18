import type { BreakerStats } from '@/lib/breaker'
import { type Embedder, EmbedderUnavailableError } from '@/lib/rag/embedder'

/**
 * Remembers whether the embedder failed during start-up (the knowledge seed and its backfill),
 * for `/ready`. At run time an outage shows through the embedder's breaker; at start-up the
 * provider down costs one or two calls, far below BREAKER_VOLUME_THRESHOLD, and without this
 * `/ready` said `ready` while every seeded passage waited for a vector. Any later success (a
 * search's query vector, an ingest, the backfill) clears it.
 */
export class ObservedEmbedder implements Embedder {
  #starting = true
  #failedAtStartup = false
  readonly breakerStats?: () => BreakerStats

  constructor(readonly inner: Embedder) {
    const stats = inner.breakerStats?.bind(inner)
    if (stats) this.breakerStats = stats
  }

  get provider() {
    return this.inner.provider
  }

  get model() {
    return this.inner.model
  }

  get defaultThreshold() {
    return this.inner.defaultThreshold
  }

  /** Start-up is over: failures from now on are the breaker's to report. */
  started(): void {
    this.#starting = false
  }

  async embed(texts: string[]): Promise<number[][]> {
    try {
      const vectors = await this.inner.embed(texts)
      this.#failedAtStartup = false
      return vectors
    } catch (error) {
      if (this.#starting && error instanceof EmbedderUnavailableError) this.#failedAtStartup = true
      throw error
    }
  }

  health() {
    return { ...this.inner.health(), ...(this.#failedAtStartup ? { failedAtStartup: true } : {}) }
  }
}
