import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'
import { type Embedder, EmbedderUnavailableError } from '@/lib/rag/embedder'

/** The local embedder with an off switch: same model, so only availability changes. */
export class SwitchableEmbedder implements Embedder {
  readonly provider = 'local' as const
  readonly inner = new LocalEmbedder()
  readonly model: string
  readonly defaultThreshold = 0.2
  down = false
  calls = 0

  constructor(model = 'local-hash-v1') {
    this.model = model
  }

  async embed(texts: string[]): Promise<number[][]> {
    this.calls++
    if (this.down) throw new EmbedderUnavailableError('switched off for the test')
    return this.inner.embed(texts)
  }

  health() {
    return {}
  }
}
