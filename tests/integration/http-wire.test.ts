import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { chunked, closesWithin, RawConnection, type RawResponse, requestHead } from '@tests/helpers/raw-http'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'

// Body handling as a client's bytes reach it: raw HTTP/1.1 against the real process (index.ts's
// own Bun.serve options) on the defaults, so Transfer-Encoding and Content-Length are exactly
// what the test writes. In-process `app.request` cannot show these: a streamed body there
// carries no Transfer-Encoding header, and Bun's own checks in front of the app never run.

const LIMIT = 1_048_576 // BODY_LIMIT_BYTES' default
const ORIGIN = 'http://localhost:5173' // CORS_ORIGINS' default
const IDLE_SECONDS = 1

let dataDir: string
let server: ServerProcess

beforeAll(async () => {
  dataDir = await preparedDataDir()
  server = await startServer({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    HTTP_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS),
    ...LOCAL_AUTH,
  })
}, DB_SETUP_TIMEOUT_MS)

afterAll(() => {
  server?.child.kill('SIGKILL')
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

/** Writes `parts` on a fresh connection and reads one response. */
async function exchange(...parts: (string | Uint8Array)[]): Promise<RawResponse> {
  const connection = await RawConnection.open(server.port)
  try {
    for (const part of parts) connection.write(part)
    return await connection.response()
  } finally {
    connection.close()
  }
}

/** The API's JSON error, with the request id of the header in the body, and CORS readable. */
function expectApiError(response: RawResponse, status: number, code: string) {
  expect(response.status).toBe(status)
  expect(response.headers['content-type']).toStartWith('application/json')
  const requestId = response.headers['x-request-id']
  expect(requestId).toMatch(/^[\w=-]+$/)
  const body = JSON.parse(response.body) as { error: { code: string; request_id: string } }
  expect(body.error.code).toBe(code)
  expect(body.error.request_id).toBe(requestId ?? 'missing')
}

const post = (path: string, headers: Record<string, string | number>) =>
  requestHead('POST', path, { origin: ORIGIN, 'x-request-id': `wire-${crypto.randomUUID()}`, ...headers })

describe('bodies over the wire (real process, raw HTTP/1.1)', () => {
  test('a chunked text/plain body is a 415, like a declared one', async () => {
    const head = post('/api/v1/auth/logout', { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' })
    expectApiError(await exchange(head, chunked('not json')), 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  test('a chunked body that is not valid JSON is a 400 INVALID_JSON', async () => {
    const head = post('/api/v1/rag/query', {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    })
    expectApiError(await exchange(head, chunked('{"query": ', '"unfinished')), 400, 'INVALID_JSON')
  })

  test('a chunked JSON body is read whole: split across chunks, it reaches the route', async () => {
    const head = post('/api/v1/rag/query', {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    })
    const response = await exchange(head, chunked('{"query": "group ', 'coordination", "limit": 1}'))
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toHaveProperty('results')
  })

  test('a chunked body over BODY_LIMIT_BYTES is the JSON 413, with X-Request-Id and CORS', async () => {
    const head = post('/api/v1/rag/query', {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    })
    const piece = 'x'.repeat(64 * 1024)
    const body = chunked(
      '{"query": "',
      ...Array.from({ length: 2 * (LIMIT / piece.length) }, () => piece),
      '"}',
    )
    const response = await exchange(head, body)
    expectApiError(response, 413, 'PAYLOAD_TOO_LARGE')
    expect(response.headers['access-control-allow-origin']).toBe(ORIGIN)
  })

  test('a declared Content-Length far over the limit is the JSON 413 (not Bun’s bare one), answered before the body', async () => {
    // Just above what Bun's own cap used to be (BODY_LIMIT_BYTES + 64 KiB), and a terabyte: the
    // app answers from the header alone, so none of the body is sent or buffered.
    for (const length of [LIMIT + 64 * 1024 + 1, 1e12]) {
      const head = post('/api/v1/rag/query', { 'content-type': 'application/json', 'content-length': length })
      const response = await exchange(head)
      expectApiError(response, 413, 'PAYLOAD_TOO_LARGE')
      expect(response.headers['access-control-allow-origin']).toBe(ORIGIN)
      expect(response.headers['access-control-expose-headers']).toContain('X-Request-Id')
    }
  })

  test('a declared over-limit body that is sent anyway: the JSON 413, and the connection stays usable', async () => {
    const length = 2 * LIMIT
    const connection = await RawConnection.open(server.port)
    try {
      connection.write(
        post('/api/v1/rag/query', { 'content-type': 'application/json', 'content-length': length }),
      )
      connection.write(Buffer.alloc(length, 'x'))
      expectApiError(await connection.response(), 413, 'PAYLOAD_TOO_LARGE')
      // The unread body was drained, not taken for the next request.
      connection.write(requestHead('GET', '/health', {}))
      expect((await connection.response()).status).toBe(200)
    } finally {
      connection.close()
    }
  })
})

describe('team bodies over the wire (real process, raw HTTP/1.1)', () => {
  const teamPost = async (path: string, body: string) => {
    const user = await newUser()
    const head = post(path, {
      authorization: `Bearer ${user.token}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    return { user, response: await exchange(head, body) }
  }

  test('a team name with a NUL byte (escaped or raw) is a 400 naming the field, and no team is made', async () => {
    for (const body of ['{"name": "Crew\\u0000"}', '{"name": "Crew\u0000"}']) {
      const { user, response } = await teamPost('/api/v1/teams', body)
      expect(response.status).toBe(400)
      const error = JSON.parse(response.body).error as { code: string; details?: { field: string }[] }
      expect(['VALIDATION_ERROR', 'INVALID_JSON']).toContain(error.code)
      if (error.code === 'VALIDATION_ERROR') expect(error.details?.[0]?.field).toBe('body.name')
      const list = await exchange(
        requestHead('GET', '/api/v1/teams', { authorization: `Bearer ${user.token}` }),
      )
      expect(JSON.parse(list.body).data).toEqual([])
    }
  })

  test('an unknown field, a wrong type and a chunked over-limit body are refused before anything is written', async () => {
    expectApiError(
      (await teamPost('/api/v1/teams', '{"name": "Crew", "owner_id": "x"}')).response,
      400,
      'VALIDATION_ERROR',
    )
    expectApiError(
      (await teamPost('/api/v1/teams/join', '{"code": 12345678}')).response,
      400,
      'VALIDATION_ERROR',
    )
    const user = await newUser()
    const head = post('/api/v1/teams', {
      authorization: `Bearer ${user.token}`,
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    })
    const piece = 'x'.repeat(64 * 1024)
    const body = chunked(
      '{"name": "',
      ...Array.from({ length: 2 * (LIMIT / piece.length) }, () => piece),
      '"}',
    )
    expectApiError(await exchange(head, body), 413, 'PAYLOAD_TOO_LARGE')
  })
})

describe('idle keep-alive connections (HTTP_IDLE_TIMEOUT_SECONDS)', () => {
  test('after an SSE chat stream ends, its idle keep-alive socket is closed like any other', async () => {
    const user = await newUser()
    const body = JSON.stringify({ message: 'How do we coordinate?', stream: true })
    const [stream, plain] = await Promise.all([
      RawConnection.open(server.port),
      RawConnection.open(server.port),
    ])
    try {
      stream.write(
        requestHead('POST', '/api/v1/ai/chat', {
          authorization: `Bearer ${user.token}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'content-length': Buffer.byteLength(body),
        }) + body,
      )
      plain.write(requestHead('GET', '/health', {}))
      const events = await stream.response()
      expect(events.status).toBe(200)
      expect(events.headers['content-type']).toStartWith('text/event-stream')
      expect(events.body).toContain('event: done')
      expect((await plain.response()).status).toBe(200)
      // Both sockets are now idle keep-alive connections; the server must close both. The wait is
      // generous (Bun checks timeouts every few seconds); the old code never closed the stream's.
      const [streamClosed, plainClosed] = await Promise.all([
        closesWithin(stream, 12_000),
        closesWithin(plain, 12_000),
      ])
      expect(plainClosed).toBe(true)
      expect(streamClosed).toBe(true)
    } finally {
      stream.close()
      plain.close()
    }
  }, 20_000)
})

describe('errors after the client has gone (real socket)', () => {
  let t: ServedApp

  beforeAll(async () => {
    t = await servedApp()
    // Each waits for its client to hang up, then fails: with a bug, or with the abort itself.
    const afterAbort = (fail: (signal: AbortSignal) => never) => async (c: { req: { raw: Request } }) => {
      const { signal } = c.req.raw
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      fail(signal)
    }
    t.app.get(
      '/api/v1/test/bug-after-hangup',
      afterAbort(() => {
        throw new TypeError('a real bug, found after the client left')
      }),
    )
    t.app.get(
      '/api/v1/test/abort',
      afterAbort((signal) => {
        throw signal.reason
      }),
    )
  }, DB_SETUP_TIMEOUT_MS)

  afterAll(() => t?.stop())

  async function hangUp(path: string, requestId: string) {
    const connection = await RawConnection.open(Number(new URL(t.url).port))
    connection.write(requestHead('GET', path, { 'x-request-id': requestId }))
    await Bun.sleep(50)
    connection.close()
    for (let i = 0; i < 200 && !t.logs.some((l) => l.request_id === requestId && l.msg === 'request'); i++) {
      await Bun.sleep(10)
    }
    return t.logs.filter((l) => l.request_id === requestId)
  }

  test('a bug after the client hung up is logged as the bug it is (error, 500), not a 499', async () => {
    const lines = await hangUp('/api/v1/test/bug-after-hangup', 'wire-bug-after-hangup')
    expect(lines.find((l) => l.msg === 'unhandled error')).toMatchObject({ level: 'error' })
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ status: 500, level: 'error' })
  })

  test('the abort itself is a 499 at info level', async () => {
    const lines = await hangUp('/api/v1/test/abort', 'wire-abort')
    expect(lines.find((l) => l.msg === 'client closed the request')).toMatchObject({ level: 'info' })
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ status: 499, level: 'info' })
    expect(lines.some((l) => l.msg === 'unhandled error')).toBe(false)
  })
})
