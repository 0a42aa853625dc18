import type { Server } from 'bun'

type Message = { role: string; content: string | { type: string; text?: string }[] }

/**
 * What the real Messages API refuses with 400 invalid_request_error about the conversation
 * itself: it must start with a `user` message, alternate user/assistant, and every message but
 * a final assistant one must have content. Null when the messages are acceptable.
 */
export function messagesProblem(messages: Message[] | undefined): string | null {
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required'
  if (messages[0]?.role !== 'user') return 'messages: first message must use the "user" role'
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant')
      return `messages.${i}.role: Input should be 'user' or 'assistant'`
    if (i > 0 && messages[i - 1]?.role === m.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${m.role}" roles in a row`
    }
    const text = typeof m.content === 'string' ? m.content : m.content.map((b) => b.text ?? '').join('')
    if (text.length === 0 && !(i === messages.length - 1 && m.role === 'assistant')) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`
    }
  }
  return null
}

/**
 * An Anthropic API stand-in on a loopback socket for the official SDK: `POST /v1/messages`,
 * JSON or the streaming event sequence (message_start, content_block_start/delta/stop,
 * message_delta, message_stop). It enforces the API's rules on the conversation's shape
 * (`messagesProblem`) as the real one does. Switches for failures (including 529 overloaded) and hangs.
 */
export class FakeAnthropic {
  readonly apiKey = 'sk-ant-fake-test-key'
  replyText = 'Hello from the fake Anthropic model.'
  failWith: number | null = null
  hangMs = 0
  /** Models requested, in order; and the system prompts received. */
  requests: string[] = []
  systems: (string | undefined)[] = []
  /** The messages of each request received, and those refused for their shape. */
  messages: Message[][] = []
  refused: string[] = []
  #server: Server<undefined> | undefined
  #port = 0

  /** The SDK's baseURL: the host root (the SDK appends /v1/messages). */
  get baseURL(): string {
    return `http://127.0.0.1:${this.#port}`
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
    this.replyText = 'Hello from the fake Anthropic model.'
    this.failWith = null
    this.hangMs = 0
    this.requests = []
    this.systems = []
    this.messages = []
    this.refused = []
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (url.pathname !== '/v1/messages' || request.method !== 'POST')
      return error(404, 'not_found_error', 'Not found')
    // The SDK sends the key as x-api-key or, in 1.x, as a bearer token.
    const key =
      request.headers.get('x-api-key') ?? request.headers.get('authorization')?.replace(/^Bearer /, '')
    if (key !== this.apiKey) return error(401, 'authentication_error', 'invalid x-api-key')
    const body = (await request.json()) as {
      model: string
      stream?: boolean
      system?: string
      messages?: Message[]
    }
    this.requests.push(body.model)
    this.systems.push(body.system)
    this.messages.push(body.messages ?? [])
    const problem = messagesProblem(body.messages)
    if (problem) {
      this.refused.push(problem)
      return error(400, 'invalid_request_error', problem)
    }
    if (this.hangMs) await Bun.sleep(this.hangMs)
    if (this.failWith === 529) return error(529, 'overloaded_error', 'Overloaded')
    if (this.failWith === 400) return error(400, 'invalid_request_error', 'prompt is too long')
    if (this.failWith !== null) return error(this.failWith, 'api_error', 'Internal server error')
    const words = this.replyText.split(/(?<= )/)
    const message = { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model }
    if (!body.stream) {
      return Response.json({
        ...message,
        content: [{ type: 'text', text: this.replyText }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: words.length },
      })
    }
    const encoder = new TextEncoder()
    const event = (name: string, data: unknown) =>
      encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
    const stream = new ReadableStream({
      async start(controller) {
        controller.enqueue(
          event('message_start', {
            type: 'message_start',
            message: {
              ...message,
              content: [],
              stop_reason: null,
              usage: { input_tokens: 10, output_tokens: 0 },
            },
          }),
        )
        controller.enqueue(
          event('content_block_start', {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'text', text: '' },
          }),
        )
        for (const word of words) {
          controller.enqueue(
            event('content_block_delta', {
              type: 'content_block_delta',
              index: 0,
              delta: { type: 'text_delta', text: word },
            }),
          )
          await Bun.sleep(2)
        }
        controller.enqueue(event('content_block_stop', { type: 'content_block_stop', index: 0 }))
        controller.enqueue(
          event('message_delta', {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: words.length },
          }),
        )
        controller.enqueue(event('message_stop', { type: 'message_stop' }))
        controller.close()
      },
    })
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
  }
}

function error(status: number, type: string, message: string) {
  return Response.json({ type: 'error', error: { type, message } }, { status })
}
