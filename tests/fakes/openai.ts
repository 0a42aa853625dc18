import type { Server } from 'bun'
import { LocalEmbedder } from '@/lib/rag/local-embedder'

/**
 * An OpenAI API stand-in on a loopback socket, for the official SDK: `POST /v1/embeddings`
 * (vectors from the local hash embedder, so they carry meaning). Switches for failures and
 * latency; it records every request.
 */
export class FakeOpenAI {
  readonly apiKey = 'sk-fake-test-key'
  /** Every request received (failed ones included). */
  requests = 0
  /** Inputs per embeddings request answered, in order. */
  embeddingBatches: number[] = []
  latencyMs = 0
  /** When set, every request is answered with this status. */
  failWith: number | null = null
  /** Answer with vectors of this many dimensions instead of 1536. */
  dimensions = 1536
  #server: Server<undefined> | undefined
  #port = 0
  readonly #embedder = new LocalEmbedder()

  /** The SDK's baseURL (it includes /v1). */
  get baseURL(): string {
    return `http://127.0.0.1:${this.#port}/v1`
  }

  start(): this {
    this.#server = Bun.serve({ hostname: '127.0.0.1', port: this.#port, fetch: (req) => this.#handle(req) })
    this.#port = this.#server.port ?? 0
    return this
  }

  async stop(): Promise<void> {
    await this.#server?.stop(true)
    this.#server = undefined
  }

  reset(): void {
    this.requests = 0
    this.embeddingBatches = []
    this.latencyMs = 0
    this.failWith = null
    this.dimensions = 1536
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    this.requests++
    if (request.headers.get('authorization') !== `Bearer ${this.apiKey}`) {
      return error(401, 'invalid_api_key', 'Incorrect API key provided')
    }
    if (this.latencyMs) await Bun.sleep(this.latencyMs)
    if (this.failWith === 429)
      return error(429, 'rate_limit_exceeded', 'Rate limit reached', { 'retry-after': '1' })
    if (this.failWith !== null) return error(this.failWith, 'server_error', 'The server had an error')
    if (url.pathname === '/v1/embeddings' && request.method === 'POST') {
      const body = (await request.json()) as { model: string; input: string | string[] }
      const inputs = Array.isArray(body.input) ? body.input : [body.input]
      this.embeddingBatches.push(inputs.length)
      const vectors = await this.#embedder.embed(inputs)
      return Response.json({
        object: 'list',
        model: body.model,
        data: vectors.map((v, index) => ({
          object: 'embedding',
          index,
          embedding: this.dimensions === v.length ? v : v.slice(0, this.dimensions),
        })),
        usage: { prompt_tokens: inputs.length * 8, total_tokens: inputs.length * 8 },
      })
    }
    return error(404, 'not_found', `Unknown path ${url.pathname}`)
  }
}

function error(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return Response.json({ error: { message, type: 'api_error', code } }, { status, headers })
}
