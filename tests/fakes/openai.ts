import type { Server } from 'bun'
import { LocalEmbedder } from '@/lib/llm/providers/local/embeddings'

/**
 * An OpenAI API stand-in on a loopback socket, for the official SDK: `POST /v1/embeddings`
 * (vectors from the local hash embedder, so they carry meaning) and `POST /v1/chat/completions`
 * (JSON, or SSE chunks when `stream: true`). Switches for failures, latency, hanging before the
 * first token and dropping mid-stream; it records every request.
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
  /** `retry-after` sent with a 429. */
  retryAfterSeconds = 1
  /** Chat: fail only requests for this model (with `failWith`, default 500). */
  failModel: string | null = null
  /** Answer with vectors of this many dimensions instead of 1536. */
  dimensions = 1536
  /** The assistant's answer to chat requests. */
  replyText = 'Hello from the fake OpenAI model.'
  /** Chat: accept the request but send nothing (headers included) for this long. */
  hangMs = 0
  /** Chat streams: pause between deltas. */
  wordDelayMs = 2
  /** Chat streams: close the connection after this many deltas. */
  dropAfterDeltas: number | null = null
  /** Chat requests received (model names), and how many were aborted by the client. */
  chatRequests: string[] = []
  abortedChats = 0
  /** The messages of each chat request received. */
  chatMessages: { role: string; content: string }[][] = []
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
    this.replyText = 'Hello from the fake OpenAI model.'
    this.hangMs = 0
    this.dropAfterDeltas = null
    this.chatRequests = []
    this.abortedChats = 0
    this.chatMessages = []
    this.failModel = null
    this.wordDelayMs = 2
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    this.requests++
    if (request.headers.get('authorization') !== `Bearer ${this.apiKey}`) {
      return error(401, 'invalid_api_key', 'Incorrect API key provided')
    }
    if (this.latencyMs) await Bun.sleep(this.latencyMs)
    if (this.failWith !== null && url.pathname === '/v1/chat/completions') {
      this.chatRequests.push(((await request.clone().json()) as { model: string }).model)
    }
    if (this.failWith === 429) {
      return error(429, 'rate_limit_exceeded', 'Rate limit reached', {
        'retry-after': String(this.retryAfterSeconds),
      })
    }
    if (this.failWith === 400)
      return error(400, 'invalid_request_error', 'Invalid request: max_tokens is too large')
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
    if (url.pathname === '/v1/chat/completions' && request.method === 'POST') return this.#chat(request)
    return error(404, 'not_found', `Unknown path ${url.pathname}`)
  }

  async #chat(request: Request): Promise<Response> {
    const body = (await request.json()) as {
      model: string
      stream?: boolean
      max_tokens?: number
      messages: { role: string; content: string }[]
    }
    this.chatRequests.push(body.model)
    this.chatMessages.push(body.messages)
    if (this.failModel === body.model) return error(500, 'server_error', 'This model is failing')
    request.signal.addEventListener('abort', () => this.abortedChats++, { once: true })
    if (this.hangMs) await Bun.sleep(this.hangMs)
    const words = this.replyText.split(/(?<= )/)
    if (!body.stream) {
      return Response.json({
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: this.replyText }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 12, completion_tokens: words.length, total_tokens: 12 + words.length },
      })
    }
    const dropAfter = this.dropAfterDeltas
    const wordDelay = this.wordDelayMs
    const encoder = new TextEncoder()
    const chunk = (data: unknown) => encoder.encode(`data: ${JSON.stringify(data)}\n\n`)
    const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 0, model: body.model }
    const stream = new ReadableStream({
      async start(controller) {
        controller.enqueue(
          chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }),
        )
        for (const [i, word] of words.entries()) {
          if (dropAfter !== null && i >= dropAfter) {
            controller.error(new Error('fake drops the connection'))
            return
          }
          controller.enqueue(
            chunk({ ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] }),
          )
          await Bun.sleep(wordDelay)
        }
        controller.enqueue(chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }))
        controller.enqueue(
          chunk({
            ...base,
            choices: [],
            usage: { prompt_tokens: 12, completion_tokens: words.length, total_tokens: 12 + words.length },
          }),
        )
        controller.enqueue(encoder.encode('data: [DONE]\n\n'))
        controller.close()
      },
    })
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
  }
}

function error(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return Response.json({ error: { message, type: 'api_error', code } }, { status, headers })
}
