import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'
import { type Embedder, EmbedderUnavailableError } from '@/lib/rag/embedder'

/**
 * The local embedder with an off switch: same model, so only availability changes. It counts
 * its calls and keeps every text it was asked to embed (`timesEmbedded`), for cache tests.
 */
export class SwitchableEmbedder implements Embedder {
  readonly provider = 'local' as const
  readonly inner = new LocalEmbedder()
  readonly model: string
  readonly defaultThreshold = 0.2
  down = false
  calls = 0
  /** Every text embedded, in order (failed calls included). */
  texts: string[] = []

  constructor(model = 'local-hash-v1') {
    this.model = model
  }

  async embed(texts: string[]): Promise<number[][]> {
    this.calls++
    this.texts.push(...texts)
    if (this.down) throw new EmbedderUnavailableError('switched off for the test')
    return this.inner.embed(texts)
  }

  /** How many times `text` was sent to the embedder. */
  timesEmbedded(text: string): number {
    return this.texts.filter((t) => t === text).length
  }

  health() {
    return {}
  }
}
