import type { Server } from 'bun'
import { jwtVerify } from 'jose'

/**
 * A Supabase Auth (GoTrue) stand-in on a real loopback socket, speaking the endpoints supabase-js
 * calls: `GET /auth/v1/user` and `POST /auth/v1/logout`. It verifies HS256 tokens with its
 * project secret the way GoTrue does, answers invalid ones with 403 `bad_jwt` and revoked
 * sessions with 403 `session_not_found`, and has switches for latency, failures and outages.
 */
export class FakeSupabaseAuth {
  readonly secret = `fake-project-secret-${crypto.randomUUID()}`
  readonly apiKey = 'fake-anon-key'
  /** Requests received, by endpoint. */
  calls = { user: 0, logout: 0 }
  /** Added before every answer. */
  latencyMs = 0
  /** `GET /user` requests being answered right now, and the most there have been at once. */
  inFlight = 0
  maxInFlight = 0
  /** When set, every request is answered with this status (e.g. 500, 503, 429). */
  failWith: number | null = null
  /** `retry-after` sent with a 429. */
  retryAfterSeconds = 1
  readonly revokedSessions = new Set<string>()
  #server: Server<undefined> | undefined
  #port = 0

  get url(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  start(): this {
    this.#server = Bun.serve({ hostname: '127.0.0.1', port: this.#port, fetch: (req) => this.#handle(req) })
    this.#port = this.#server.port ?? 0
    return this
  }

  /** Stops listening: calls now fail with "connection refused", like an auth outage. */
  async stop(): Promise<void> {
    await this.#server?.stop(true)
    this.#server = undefined
  }

  reset(): void {
    this.calls = { user: 0, logout: 0 }
    this.maxInFlight = 0
    this.latencyMs = 0
    this.failWith = null
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const endpoint =
      url.pathname === '/auth/v1/user' ? 'user' : url.pathname === '/auth/v1/logout' ? 'logout' : null
    if (!endpoint) return Response.json({ code: 'not_found', msg: 'Not found' }, { status: 404 })
    this.calls[endpoint]++
    if (endpoint === 'user') this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight)
    try {
      if (this.latencyMs > 0) await Bun.sleep(this.latencyMs)
      return await this.#answer(request, endpoint)
    } finally {
      if (endpoint === 'user') this.inFlight--
    }
  }

  async #answer(request: Request, endpoint: 'user' | 'logout'): Promise<Response> {
    if (this.failWith === 429) {
      return Response.json(
        { code: 'over_request_rate_limit', msg: 'Rate limit exceeded' },
        { status: 429, headers: { 'retry-after': String(this.retryAfterSeconds), ...API_VERSION } },
      )
    }
    if (this.failWith !== null) return new Response('upstream exploded', { status: this.failWith })
    if (request.headers.get('apikey') !== this.apiKey) {
      return Response.json({ message: 'Invalid API key' }, { status: 401 })
    }
    const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
    const claims = await this.#verify(token)
    if (!claims) return error(403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature')
    const sessionId = typeof claims.session_id === 'string' ? claims.session_id : undefined
    if (sessionId && this.revokedSessions.has(sessionId)) {
      return error(403, 'session_not_found', 'Session from session_id claim in JWT does not exist')
    }
    if (endpoint === 'logout') {
      if (sessionId) this.revokedSessions.add(sessionId)
      return new Response(null, { status: 204 })
    }
    return Response.json(
      {
        id: claims.sub,
        aud: 'authenticated',
        role: 'authenticated',
        email: claims.email,
        app_metadata: claims.app_metadata ?? { provider: 'email' },
        user_metadata: claims.user_metadata ?? {},
        created_at: '2026-01-01T00:00:00Z',
      },
      { headers: API_VERSION },
    )
  }

  async #verify(token: string | undefined): Promise<Record<string, unknown> | null> {
    if (!token) return null
    try {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(this.secret), {
        algorithms: ['HS256'],
        audience: 'authenticated',
      })
      return payload.sub ? (payload as Record<string, unknown>) : null
    } catch {
      return null
    }
  }
}

const API_VERSION = { 'x-supabase-api-version': '2024-01-01' }

function error(status: number, code: string, msg: string) {
  return Response.json({ code, msg }, { status, headers: API_VERSION })
}
