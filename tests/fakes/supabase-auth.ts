import type { Server } from 'bun'
import { jwtVerify } from 'jose'

/**
 * A Supabase Auth (GoTrue) stand-in on a real loopback socket, speaking the endpoints supabase-js
 * calls: `GET /auth/v1/user`, `POST /auth/v1/logout` (`scope=global` ends every session of the
 * user) and `DELETE /auth/v1/admin/users/:id` (`auth.admin.deleteUser`, service-role key only). It verifies HS256 tokens with its
 * project secret the way GoTrue does, answers invalid ones with 403 `bad_jwt` and revoked
 * sessions with 403 `session_not_found`, and has switches for latency, failures and outages.
 */
export class FakeSupabaseAuth {
  readonly secret = `fake-project-secret-${crypto.randomUUID()}`
  readonly apiKey = 'fake-anon-key'
  readonly serviceRoleKey = 'fake-service-role-key'
  /** Requests received, by endpoint. */
  calls = { user: 0, logout: 0, deleteUser: 0 }
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
  /** Users whose every session ended (global logout): their tokens are refused. */
  readonly signedOutUsers = new Set<string>()
  /** Users deleted through the admin API, by id. */
  readonly deletedUsers = new Set<string>()
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
    this.calls = { user: 0, logout: 0, deleteUser: 0 }
    this.maxInFlight = 0
    this.latencyMs = 0
    this.failWith = null
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const adminUser = /^\/auth\/v1\/admin\/users\/([^/]+)$/.exec(url.pathname)
    // supabase-js's deleteUser reads the user first (GET), then deletes it (DELETE).
    if (adminUser && (request.method === 'DELETE' || request.method === 'GET')) {
      if (request.method === 'DELETE') this.calls.deleteUser++
      return this.#adminUser(request, decodeURIComponent(adminUser[1] ?? ''))
    }
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
    const sub = String(claims.sub)
    if (this.deletedUsers.has(sub))
      return error(403, 'user_not_found', 'User from sub claim in JWT does not exist')
    if ((sessionId && this.revokedSessions.has(sessionId)) || this.signedOutUsers.has(sub)) {
      return error(403, 'session_not_found', 'Session from session_id claim in JWT does not exist')
    }
    if (endpoint === 'logout') {
      if (new URL(request.url).searchParams.get('scope') === 'global') this.signedOutUsers.add(sub)
      else if (sessionId) this.revokedSessions.add(sessionId)
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

  // GoTrue's admin API wants a service-role bearer. GET answers the user (any id not deleted
  // exists here: users are whoever the tokens name); DELETE removes it with every session.
  async #adminUser(request: Request, userId: string): Promise<Response> {
    if (this.failWith !== null) return new Response('upstream exploded', { status: this.failWith })
    const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
    if (request.headers.get('apikey') !== this.serviceRoleKey || bearer !== this.serviceRoleKey) {
      return error(403, 'not_admin', 'User not allowed')
    }
    if (this.deletedUsers.has(userId)) return error(404, 'user_not_found', 'User not found')
    if (request.method === 'GET') {
      return Response.json(
        {
          id: userId,
          aud: 'authenticated',
          role: 'authenticated',
          app_metadata: {},
          user_metadata: {},
          created_at: '2026-01-01T00:00:00Z',
        },
        { headers: API_VERSION },
      )
    }
    this.deletedUsers.add(userId)
    return Response.json({}, { headers: API_VERSION })
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
