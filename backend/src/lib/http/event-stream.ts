import type { Server } from 'bun'
import type { Context } from 'hono'
import { stream } from 'hono/streaming'
import { isClientAbort, toApiError } from '@/lib/errors/handler'
import type { Logger } from '@/lib/log'

/** How events go on the wire: Server-Sent Events or one JSON object per line. */
export type StreamFormat = 'sse' | 'ndjson'

/** Any event: its `type` names it (`event:` in SSE), the rest is its data. */
export interface StreamEvent {
  type: string
}

/** The event a stream ends with when its source failed after the first event. */
export interface StreamErrorEvent extends StreamEvent {
  type: 'error'
  code: string
  message: string
}

export interface EventStreamOptions {
  /** Milliseconds between `: ping` comments on a quiet SSE stream (STREAM_HEARTBEAT_MS). */
  heartbeatMs: number
  /** Where a failure that maps to INTERNAL (a bug) is logged. */
  logger: Logger
  /**
   * The server's idle timeout in seconds (HTTP_IDLE_TIMEOUT_SECONDS). Lifted while the stream
   * runs, and set back to this when it ends: Bun keeps a per-request timeout on the keep-alive
   * connection, so without it a finished stream's idle socket would never be closed.
   */
  idleTimeoutSeconds: number
}

/** What the encoder needs of the request's environment: Bun's server, for the idle timeout. */
interface StreamEnv {
  Bindings: { server?: Server<undefined> }
}

const HEADERS: Record<StreamFormat, Record<string, string>> = {
  // The same headers as Hono's streamSSE.
  sse: {
    'Transfer-Encoding': 'chunked',
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
  },
  ndjson: { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-cache' },
}

function encode(format: StreamFormat, { type, ...data }: StreamEvent): string {
  // JSON.stringify escapes newlines, so the data is always one SSE `data:` line.
  return format === 'sse'
    ? `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`
    : `${JSON.stringify({ type, ...data })}\n`
}

/**
 * Writes the events of `open(signal)` as SSE or NDJSON. Nothing is sent until the first event:
 * a failure before it is thrown from here, so the route answers a normal JSON error. After it,
 * a failure ends the stream with one `error` event. The client leaving aborts `signal` (and so
 * the upstream work) and nothing more is written. SSE gets `: ping` heartbeats; NDJSON has no
 * comment syntax (a blank line would break strict parsers), so it gets none — Bun's idle
 * timeout is lifted for the request either way, and set back when the stream ends.
 */
export async function eventStream<E extends StreamEvent, Env extends StreamEnv>(
  c: Context<Env>,
  format: StreamFormat,
  open: (signal: AbortSignal) => AsyncIterable<E>,
  options: EventStreamOptions,
): Promise<Response> {
  const client = new AbortController()
  const signal = AbortSignal.any([client.signal, c.req.raw.signal])
  const events = open(signal)[Symbol.asyncIterator]()
  const first = await events.next()
  // Long answers must not be cut by Bun's idle timeout.
  const server = c.env?.server
  server?.timeout(c.req.raw, 0)
  for (const [name, value] of Object.entries(HEADERS[format])) c.header(name, value)
  return stream(c, async (out) => {
    out.onAbort(() => client.abort())
    const write = async (event: E | StreamErrorEvent) => {
      await out.write(encode(format, event))
    }
    let heartbeat: Timer | undefined
    try {
      for (let next = first; !next.done; next = await events.next()) {
        await write(next.value)
        // Started after the first event, so a ping never comes before it; keeps proxies awake.
        if (format === 'sse')
          heartbeat ??= setInterval(() => void out.write(': ping\n\n'), options.heartbeatMs)
      }
    } catch (error) {
      // The client leaving ends the stream quietly; a bug is reported even when it has gone.
      if (isClientAbort(error, signal)) return
      // The same mapping as app.onError, so an `error` event says what an error response would.
      const mapped = toApiError(error)
      if (mapped.code === 'INTERNAL') options.logger.error({ err: error }, 'stream failed')
      if (!signal.aborted) await write({ type: 'error', code: mapped.code, message: mapped.message })
    } finally {
      clearInterval(heartbeat)
      // Before the response ends, so the connection is idle-limited again once it is kept alive.
      server?.timeout(c.req.raw, options.idleTimeoutSeconds)
    }
  })
}
