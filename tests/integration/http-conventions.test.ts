import { beforeAll, describe, expect, test } from 'bun:test'
import { setTimeout as wait } from 'node:timers/promises'
import { createRoute, z } from '@hono/zod-openapi'
import { type TestApp, testApp } from '@tests/helpers/app'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { Server } from 'bun'
import type { ErrorBody } from '@/lib/errors/api-error'
import { eventStream } from '@/lib/http/event-stream'

let t: TestApp
const LIMIT = 2048

// A JSON route mounted only in this test, to exercise the conventions every API route shares.
const echo = createRoute({
  method: 'post',
  path: '/api/v1/test/echo',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ name: z.string().min(1), count: z.number().int().min(1).max(5) }),
        },
      },
    },
  },
  responses: { 200: { description: 'echo' } },
})

beforeAll(async () => {
  t = await testApp({ BODY_LIMIT_BYTES: String(LIMIT), CORS_ORIGINS: 'https://app.example.com' })
  t.app.openapi(echo, (c) => c.json(c.req.valid('json'), 200))
  t.app.get('/api/v1/test/boom', () => {
    throw new Error('connection to 10.1.2.3 failed: password authentication failed for user "postgres"')
  })
  // Each waits for the client to hang up, then fails: with a bug, or with the abort itself.
  const afterAbort =
    (fail: (signal: AbortSignal) => never | Promise<never>) => async (c: { req: { raw: Request } }) => {
      const { signal } = c.req.raw
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      await fail(signal)
    }
  t.app.get(
    '/api/v1/test/bug-after-abort',
    afterAbort(() => {
      throw new TypeError('a real bug, found after the client left')
    }),
  )
  t.app.get(
    '/api/v1/test/abort-reason',
    afterAbort((signal) => {
      throw signal.reason
    }),
  )
  t.app.get(
    '/api/v1/test/abort-error',
    afterAbort(async (signal) => {
      // An abortable API given the request's signal: an AbortError of its own, caused by the reason.
      await wait(60_000, undefined, { signal })
      throw new Error('unreachable')
    }),
  )
  // Our own deadline or controller firing after the client left: a failure of ours, not the client's.
  const ownAbort = (own: () => AbortSignal) =>
    afterAbort(async () => {
      const signal = own()
      if (!signal.aborted)
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      throw signal.reason
    })
  t.app.get(
    '/api/v1/test/own-timeout-after-abort',
    ownAbort(() => AbortSignal.timeout(1)),
  )
  t.app.get(
    '/api/v1/test/own-abort-after-abort',
    ownAbort(() => {
      const own = new AbortController()
      own.abort()
      return own.signal
    }),
  )
  t.app.get(
    '/api/v1/test/abort-wrapped',
    afterAbort((signal) => {
      throw new Error('query cancelled', { cause: signal.reason })
    }),
  )
  t.app.get('/api/v1/test/stream', (c) =>
    eventStream(
      c,
      'sse',
      async function* () {
        yield { type: 'delta', text: 'hi' }
      },
      { heartbeatMs: 60_000, idleTimeoutSeconds: 7, logger: c.get('services').logger },
    ),
  )
  // One event, then (once the client has hung up) a bug, or the abort itself.
  t.app.get('/api/v1/test/stream-then-fail/:how', (c) =>
    eventStream(
      c,
      'sse',
      async function* (signal) {
        yield { type: 'delta', text: 'hi' }
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        if (c.req.param('how') === 'abort') throw signal.reason
        throw new TypeError(`stream bug after hang-up ${c.req.param('how')}`)
      },
      { heartbeatMs: 60_000, idleTimeoutSeconds: 7, logger: c.get('services').logger },
    ),
  )
  t.app.get('/api/v1/test/bad-sql', async (c) => {
    await c
      .get('services')
      .db.asService((tx) =>
        tx.query('select * from secret_internal_table where owner = $1', ['owner-id-not-for-logs']),
      )
    return c.json({})
  })
}, DB_SETUP_TIMEOUT_MS)

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toStartWith('application/json')
  const body = (await response.json()) as ErrorBody
  expect(body.error.code).toBe(code as ErrorBody['error']['code'])
  expect(typeof body.error.message).toBe('string')
  expect(body.error.request_id).toBe(response.headers.get('x-request-id') ?? 'missing')
  return body
}

describe('request id', () => {
  test('generated when absent', async () => {
    const response = await t.request('/health')
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('a valid incoming id is kept', async () => {
    const response = await t.request('/health', { headers: { 'x-request-id': 'lb-trace_01=abc' } })
    expect(response.headers.get('x-request-id')).toBe('lb-trace_01=abc')
  })

  test('an invalid or oversized incoming id is replaced', async () => {
    for (const bad of ['has spaces', 'semi;colon', 'x'.repeat(201)]) {
      const response = await t.request('/health', { headers: { 'x-request-id': bad } })
      const id = response.headers.get('x-request-id')
      expect(id).not.toBe(bad)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
    }
  })

  test('error bodies carry the same id as the header', async () => {
    const response = await t.request('/nope', { headers: { 'x-request-id': 'trace-404' } })
    const body = await expectError(response, 404, 'NOT_FOUND')
    expect(body.error.request_id).toBe('trace-404')
  })
})

describe('error bodies', () => {
  test('unknown route → 404 NOT_FOUND, whatever the method and body', async () => {
    await expectError(await t.request('/api/v1/nothing-here'), 404, 'NOT_FOUND')
    await expectError(
      await t.request('/api/v1/nothing-here', { method: 'POST', body: 'x' }),
      404,
      'NOT_FOUND',
    )
  })

  test('a body that is not JSON → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await t.request('/api/v1/test/echo', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'name=x',
    })
    await expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE')
    const form = await t.request('/api/v1/test/echo', {
      method: 'POST',
      body: new URLSearchParams({ a: '1' }),
    })
    await expectError(form, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  test('unparseable JSON → 400 INVALID_JSON', async () => {
    await expectError(await t.request('/api/v1/test/echo', json('{"name": ')), 400, 'INVALID_JSON')
    await expectError(await t.request('/api/v1/test/echo', json('')), 400, 'INVALID_JSON')
  })

  test('schema failure → 400 VALIDATION_ERROR listing each field', async () => {
    const body = await expectError(
      await t.request('/api/v1/test/echo', json({ name: '', count: 9 })),
      400,
      'VALIDATION_ERROR',
    )
    const fields = (body.error.details as { field: string }[]).map((d) => d.field).sort()
    expect(fields).toEqual(['body.count', 'body.name'])
  })

  test('a valid body passes through', async () => {
    const response = await t.request('/api/v1/test/echo', json({ name: 'ok', count: 2 }))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ name: 'ok', count: 2 })
  })

  test('a body over BODY_LIMIT_BYTES → 413, by header and by streamed size', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(LIMIT), count: 1 })
    await expectError(await t.request('/api/v1/test/echo', json(big)), 413, 'PAYLOAD_TOO_LARGE')
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big))
        controller.close()
      },
    })
    const streamed = await t.request('/api/v1/test/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    await expectError(streamed, 413, 'PAYLOAD_TOO_LARGE')
  })

  test('a bug → 500 INTERNAL with no stack or internal detail, logged with the request id', async () => {
    for (const path of ['/api/v1/test/boom', '/api/v1/test/bad-sql']) {
      const response = await t.request(path, { headers: { 'x-request-id': `bug-${path.length}` } })
      const body = await expectError(response, 500, 'INTERNAL')
      const text = JSON.stringify(body)
      for (const leak of ['10.1.2.3', 'password', 'secret_internal_table', 'at ', '.ts:']) {
        expect(text).not.toContain(leak)
      }
      const logged = t.logs.find((l) => l.request_id === `bug-${path.length}` && l.msg === 'unhandled error')
      expect(logged).toBeDefined()
    }
    // The driver attaches the statement's parameters to its error; they must not reach the log.
    expect(JSON.stringify(t.logs)).toContain('secret_internal_table')
    expect(JSON.stringify(t.logs)).not.toContain('owner-id-not-for-logs')
  })
})

describe('bodies by their framing (in-process; over a real socket in http-wire.test.ts)', () => {
  // POST /logout takes no body, so only the JSON guard can refuse one (a route with a JSON body
  // schema would also refuse it in its validator).
  test('a declared text/plain body and a chunked one are both 415', async () => {
    // In process a string body gets no Content-Length header; on the wire it always has one.
    const declared = await t.request('/api/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'content-length': '8' },
      body: 'not json',
    })
    await expectError(declared, 415, 'UNSUPPORTED_MEDIA_TYPE')
    // As Bun hands the app a chunked upload: a stream (no Content-Length), Transfer-Encoding set.
    // A string body would get a Content-Length here and never take the chunked path.
    const chunkedBody = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('not json'))
        controller.close()
      },
    })
    const chunked = await t.request('/api/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      body: chunkedBody,
      duplex: 'half',
    } as RequestInit)
    await expectError(chunked, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  test('a 413 carries X-Request-Id and the CORS headers, so a browser app can read it', async () => {
    const response = await t.request(
      '/api/v1/test/echo',
      json('x'.repeat(LIMIT + 1), { origin: 'https://app.example.com', 'x-request-id': 'too-big-1' }),
    )
    const body = await expectError(response, 413, 'PAYLOAD_TOO_LARGE')
    expect(body.error.request_id).toBe('too-big-1')
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
  })
})

describe('errors once the client has gone', () => {
  /** Sends a request, hangs up while the route waits, and returns what came back and was logged. */
  async function hangUp(path: string, requestId: string) {
    const client = new AbortController()
    const pending = t.request(path, { headers: { 'x-request-id': requestId }, signal: client.signal })
    await Bun.sleep(10)
    client.abort()
    const response = await pending
    return {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      lines: t.logs.filter((l) => l.request_id === requestId),
    }
  }

  test('a bug after the client hung up is logged at error level as the bug it is, not as a 499', async () => {
    const { status, lines } = await hangUp('/api/v1/test/bug-after-abort', 'gone-bug')
    expect(status).toBe(500)
    expect(lines.find((l) => l.msg === 'unhandled error')).toMatchObject({ level: 'error' })
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ status: 500, level: 'error' })
    expect(lines.some((l) => l.msg === 'client closed the request')).toBe(false)
  })

  test('our own TimeoutError / AbortError after the client hung up is a 500 at error level, not a 499', async () => {
    for (const path of ['/api/v1/test/own-timeout-after-abort', '/api/v1/test/own-abort-after-abort']) {
      const { status, lines } = await hangUp(path, `gone-own-${path.length}`)
      expect(status).toBe(500)
      expect(lines.find((l) => l.msg === 'unhandled error')).toMatchObject({
        level: 'error',
        err: expect.objectContaining({ name: path.includes('timeout') ? 'TimeoutError' : 'AbortError' }),
      })
      expect(lines.find((l) => l.msg === 'request')).toMatchObject({ status: 500, level: 'error' })
      expect(lines.some((l) => l.msg === 'client closed the request')).toBe(false)
    }
  })

  test('the abort itself — its reason, an AbortError caused by it, or an error caused by it — is a 499 at info', async () => {
    for (const path of [
      '/api/v1/test/abort-reason',
      '/api/v1/test/abort-error',
      '/api/v1/test/abort-wrapped',
    ]) {
      const id = `gone-${path.length}-${path.at(-1)}`
      const { status, requestId, lines } = await hangUp(path, id)
      expect(status).toBe(499)
      // Answered through the context like any other, though nobody may read it.
      expect(requestId).toBe(id)
      expect(lines.find((l) => l.msg === 'client closed the request')).toMatchObject({ level: 'info' })
      expect(lines.find((l) => l.msg === 'request')).toMatchObject({ status: 499, level: 'info' })
      expect(lines.some((l) => l.msg === 'unhandled error')).toBe(false)
    }
  })
})

describe('a stream whose client has gone', () => {
  const streamFailures = () => t.logs.filter((l) => l.msg === 'stream failed')
  const failureFor = (how: string) =>
    streamFailures().find((l) => (l.err as { message?: string } | undefined)?.message?.endsWith(how))

  async function hangUpAfterFirstEvent(how: string) {
    const client = new AbortController()
    const response = await t.request(`/api/v1/test/stream-then-fail/${how}`, { signal: client.signal })
    const reader = response.body?.getReader()
    expect(new TextDecoder().decode((await reader?.read())?.value)).toContain('event: delta')
    client.abort()
    await reader?.cancel().catch(() => {})
  }

  async function loggedFailureFor(how: string) {
    for (let i = 0; i < 200 && !failureFor(how); i++) await Bun.sleep(10)
    return failureFor(how)
  }

  test('a bug after the client left is still logged as a stream failure', async () => {
    await hangUpAfterFirstEvent('bug-1')
    expect(await loggedFailureFor('bug-1')).toMatchObject({ level: 'error' })
  })

  test('the abort itself ends the stream quietly', async () => {
    const before = streamFailures().length
    await hangUpAfterFirstEvent('abort')
    // A bug run afterwards, whose log line shows the abort run has long finished.
    await hangUpAfterFirstEvent('bug-2')
    expect(await loggedFailureFor('bug-2')).toBeDefined()
    expect(streamFailures().length).toBe(before + 1)
  })
})

describe('streams and the idle timeout', () => {
  test('a stream lifts the idle timeout for its request and sets it back when it ends', async () => {
    const timeouts: number[] = []
    // Bun's server, as far as the app uses it: the client address (rate limits) and timeouts.
    const server = {
      requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 1 }),
      timeout: (_request: Request, seconds: number) => void timeouts.push(seconds),
    }
    const response = await t.app.request(
      'http://pilar.test/api/v1/test/stream',
      {},
      {
        server: server as unknown as Server<undefined>,
      },
    )
    expect(await response.text()).toContain('event: delta')
    expect(timeouts).toEqual([0, 7])
  })
})

describe('headers', () => {
  test('secure headers are set', async () => {
    const response = await t.request('/health')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(response.headers.get('strict-transport-security')).toContain('max-age=')
  })

  test('CORS allows configured origins only', async () => {
    const allowed = await t.request('/api/v1/nothing', { headers: { origin: 'https://app.example.com' } })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
    const other = await t.request('/api/v1/nothing', { headers: { origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const preflight = await t.request('/api/v1/test/echo', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization')
  })
})

describe('request log', () => {
  test('one JSON line per request with the route pattern, status and duration; never the token', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.secret-token-body.signature'
    await t.request(
      '/api/v1/test/echo',
      json({ name: 'a', count: 1 }, { authorization: `Bearer ${token}`, 'x-request-id': 'log-1' }),
    )
    const lines = t.logs.filter((l) => l.request_id === 'log-1')
    expect(lines).toHaveLength(1)
    const line = lines[0] ?? {}
    expect(line).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/api/v1/test/echo',
      status: 200,
      msg: 'request',
    })
    expect(typeof line.duration_ms).toBe('number')
    expect(typeof line.time).toBe('string')
    expect(JSON.stringify(t.logs)).not.toContain('secret-token-body')
  })

  test('unknown routes are logged as unmatched, not by their raw path', async () => {
    await t.request('/api/v1/users/123e4567-e89b-12d3-a456-426614174000', {
      headers: { 'x-request-id': 'log-2' },
    })
    expect(t.logs.find((l) => l.request_id === 'log-2')).toMatchObject({
      route: 'unmatched',
      status: 404,
      level: 'warn',
    })
  })
})

test('an unknown route with a non-JSON body is a 404 logged as unmatched, not a 415', async () => {
  const response = await t.request('/api/v1/nothing-here', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'content-length': '1', 'x-request-id': 'log-3' },
    body: 'x',
  })
  await expectError(response, 404, 'NOT_FOUND')
  expect(t.logs.find((l) => l.request_id === 'log-3')).toMatchObject({ route: 'unmatched', status: 404 })
})
