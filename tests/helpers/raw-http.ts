import { connect, type Socket } from 'node:net'

/** One response as it came off the socket. */
export interface RawResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

const HEAD_END = '\r\n\r\n'

/**
 * A raw HTTP/1.1 connection over `node:net`: what is written is exactly what the server gets,
 * so a test controls Transfer-Encoding and Content-Length itself (`fetch` and in-process
 * `app.request` choose their own framing). Responses are read one after another on the same
 * connection, so keep-alive behaviour can be observed too.
 */
export class RawConnection {
  readonly #socket: Socket
  #buffer = Buffer.alloc(0)
  #wake: () => void = () => {}
  #ended = false
  /** Resolves when the server (or anyone) closes the connection. */
  readonly closed: Promise<void>

  private constructor(socket: Socket) {
    this.#socket = socket
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (data: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, data])
      this.#wake()
    })
    socket.on('close', () => {
      this.#ended = true
      this.#wake()
    })
    // A server that answers early and closes may reset a connection we are still writing to;
    // what it said before that is still in the buffer.
    socket.on('error', () => {})
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host)
      socket.once('connect', () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  get isClosed(): boolean {
    return this.#ended
  }

  write(data: string | Uint8Array): void {
    if (!this.#socket.destroyed) this.#socket.write(data)
  }

  close(): void {
    this.#socket.destroy()
  }

  /** Waits until `enough(bytes)` says how many bytes of the buffer are one unit, or the socket closes. */
  async #take(enough: (buffer: Buffer) => number | undefined): Promise<Buffer | undefined> {
    for (;;) {
      const size = enough(this.#buffer)
      if (size !== undefined) {
        const unit = this.#buffer.subarray(0, size)
        this.#buffer = this.#buffer.subarray(size)
        return unit
      }
      if (this.#ended) return undefined
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }

  /** The next complete response (by Content-Length, chunked framing, or the connection closing). */
  async response(): Promise<RawResponse> {
    const head = await this.#take((b) => {
      const end = b.indexOf(HEAD_END)
      return end < 0 ? undefined : end + HEAD_END.length
    })
    if (!head) throw new Error(`connection closed before a response (got ${this.#buffer.length} bytes)`)
    const [statusLine = '', ...lines] = head.toString('latin1').trimEnd().split('\r\n')
    const status = Number(statusLine.split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let body: Buffer
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      body = Buffer.concat(await this.#chunks())
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      body = (await this.#take((b) => (b.length >= length ? length : undefined))) ?? this.#drain()
    } else {
      // No framing: the body is whatever comes before the close.
      await this.closed
      body = this.#drain()
    }
    return { status, headers, body: body.toString('utf8') }
  }

  async #chunks(): Promise<Buffer[]> {
    const parts: Buffer[] = []
    for (;;) {
      const sizeLine = await this.#take((b) => {
        const end = b.indexOf('\r\n')
        return end < 0 ? undefined : end + 2
      })
      if (!sizeLine) return parts
      const size = Number.parseInt(sizeLine.toString('latin1'), 16)
      const chunk = await this.#take((b) => (b.length >= size + 2 ? size + 2 : undefined))
      if (!chunk) return parts
      if (size === 0) return parts
      parts.push(chunk.subarray(0, size))
    }
  }

  #drain(): Buffer {
    const rest = this.#buffer
    this.#buffer = Buffer.alloc(0)
    return rest
  }
}

/** `parts` as a chunked request body, terminator included. */
export function chunked(...parts: (string | Uint8Array)[]): Buffer {
  const out: Buffer[] = []
  for (const part of parts) {
    const bytes = Buffer.from(part)
    if (bytes.length === 0) continue
    out.push(Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n'))
  }
  out.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(out)
}

/** A request head: the request line, `Host`, the given headers, and the blank line. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}

/** Resolves true once `connection` is closed, false if it is still open after `ms`. */
export async function closesWithin(connection: RawConnection, ms: number): Promise<boolean> {
  let timer: Timer | undefined
  const open = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([connection.closed.then(() => true as const), open])
  } finally {
    clearTimeout(timer)
  }
}
