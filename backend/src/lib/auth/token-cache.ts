import { Histogram } from 'prom-client'
import { isCompactJwt, tokenKey } from '@/lib/auth/bearer'
import type { AuthUser, TokenVerifier, VerifiedIdentity } from '@/lib/auth/types'
import { LruTtl } from '@/lib/lru-ttl'
import { bucketsOf, quantileMs } from '@/lib/metrics/quantile'

export interface TokenCacheOptions {
  /** How long a verified token is served from memory (AUTH_CACHE_TTL_MS); 0 disables caching. */
  ttlMs: number
  /** LRU bound (AUTH_CACHE_MAX_ENTRIES). */
  maxEntries: number
  /** How long a rejected token is remembered, so floods of bad tokens don't reach upstream. */
  negativeTtlMs?: number
  negativeMaxEntries?: number
  /**
   * Where each verification's latency is observed (the registry's
   * `auth_upstream_duration_seconds`); a private histogram when omitted.
   */
  upstreamLatency?: Histogram
  /** Injectable clock for tests. */
  now?: () => number
}

/** The cache's counters: cheap, synchronous, read at every scrape. */
export interface TokenCacheCounters {
  size: number
  max_entries: number
  ttl_ms: number
  hits: number
  misses: number
  hit_rate: number
  negative_hits: number
  evictions: number
  deduplicated: number
  upstream_calls: number
  upstream_errors: number
}

export interface TokenCacheStats extends TokenCacheCounters {
  upstream_p50_ms: number
  upstream_p99_ms: number
}

/**
 * How a session is named wherever it is kept or announced: SHA-256 of its id, hex, like a
 * token's key, so the raw session id never leaves the verified claims.
 */
export function sessionKey(sessionId: string): string {
  return Bun.SHA256.hash(`pilar-session:${sessionId}`, 'hex')
}

/** A cached user and the key of the session its token belongs to, so logout can end it whole. */
interface Entry {
  user: AuthUser
  session: string | undefined
}

interface Flight {
  promise: Promise<AuthUser | null>
  /** Set when the token or its user was invalidated while the flight was under way. */
  stale: boolean
}

/** Seconds: from a local signature check (sub-ms) to a slow auth server. */
export const AUTH_UPSTREAM_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]

/**
 * A TTL + LRU cache in front of a `TokenVerifier`, so a request costs a hash and a map lookup.
 * It is never looser than asking the verifier:
 * - keys are SHA-256 of the token; raw tokens are never stored;
 * - an entry lives `min(ttl, token exp − now)`: a cached user is never served past the token's expiry;
 * - concurrent misses for one token share one upstream call (single flight);
 * - a rejected token is remembered briefly (negative cache);
 * - logout evicts every cached token of the session at once (a refreshed token is a second
 *   token of the same session), and logout and admin invalidation both stop fills in flight.
 * Verifier failures (auth server down) propagate: they are not "invalid token".
 */
export class TokenCache {
  readonly #entries: LruTtl<Entry>
  readonly #rejected: LruTtl<true>
  readonly #flights = new Map<string, Flight>()
  readonly #now: () => number
  readonly #negativeTtlMs: number
  readonly #latency: Histogram
  #counters = {
    hits: 0,
    misses: 0,
    negativeHits: 0,
    evictions: 0,
    deduplicated: 0,
    upstreamCalls: 0,
    upstreamErrors: 0,
  }

  constructor(
    private readonly verifier: TokenVerifier,
    /** Turns a verified identity into the request's user (profile row, role); runs once per fill. */
    private readonly toUser: (identity: VerifiedIdentity) => Promise<AuthUser>,
    private readonly options: TokenCacheOptions,
  ) {
    this.#now = options.now ?? Date.now
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000
    this.#entries = new LruTtl(options.maxEntries, () => this.#counters.evictions++)
    this.#rejected = new LruTtl(options.negativeMaxEntries ?? 10_000)
    this.#latency =
      options.upstreamLatency ??
      new Histogram({
        name: 'auth_upstream_duration_seconds',
        help: 'Token verification latency',
        buckets: AUTH_UPSTREAM_BUCKETS,
        registers: [],
      })
  }

  /**
   * The user for a token, or null when the token is invalid; rejects when it cannot tell.
   * Answers from memory synchronously — no promise on the hot path — and returns a promise
   * only when the verifier has to be asked. `key` is `tokenKey(token)`, when the caller has it.
   */
  get(
    token: string,
    key = tokenKey(token),
    /**
     * Awaited before the verifier is asked (and its release called after): the caller's gate
     * on upstream calls. Requests that join a verification under way do not pass it again.
     */
    enter?: () => Promise<() => void>,
  ): AuthUser | null | Promise<AuthUser | null> {
    const now = this.#now()
    const entry = this.#entries.get(key, now)
    if (entry) {
      this.#counters.hits++
      return entry.user
    }
    if (this.#rejected.get(key, now)) {
      this.#counters.negativeHits++
      return null
    }
    this.#counters.misses++
    const inFlight = this.#flights.get(key)
    if (inFlight) {
      this.#counters.deduplicated++
      return inFlight.promise
    }
    const flight: Flight = { promise: Promise.resolve(null), stale: false }
    flight.promise = this.#fill(key, token, flight, enter).finally(() => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key)
    })
    this.#flights.set(key, flight)
    return flight.promise
  }

  /**
   * The cached user for a token key, without asking anyone on a miss: lets callers treat a
   * known-good token differently from one that is about to be verified.
   */
  peek(key: string): AuthUser | undefined {
    const entry = this.#entries.get(key, this.#now())
    if (entry) this.#counters.hits++
    return entry?.user
  }

  /**
   * Logout: forgets the token and every cached token of its session, and refuses the token
   * briefly without asking upstream. `key` is `tokenKey(token)`; `session` is
   * `sessionKey(sessionId)` — needed when this cache may not hold the token itself (an
   * announcement from another instance); otherwise the session is read from the token's entry.
   * Returns how many entries went.
   */
  evictToken(key: string, session?: string): number {
    const ended = session ?? this.#entries.get(key, this.#now())?.session
    this.#remember(key)
    let count = this.#entries.delete(key) ? 1 : 0
    if (ended === undefined) {
      this.#abandonFlight(key)
      return count
    }
    // A scan rather than a second index: logouts are rare, the scan is bounded by maxEntries,
    // and an index would have to follow every LRU push-out and expiry to stay true.
    count += this.#entries.deleteWhere((entry) => entry.session === ended)
    // Another token of the session may be verifying right now, and a verifier that answered
    // before the revocation landed would re-add it: no fill under way may store its result.
    this.#abandonFlights()
    return count
  }

  /** Forgets every token of one user, by the hash of the user id; returns how many went. */
  evictUser(idHash: string): number {
    const count = this.#entries.deleteWhere((entry) => entry.user.idHash === idHash)
    // A fill under way may belong to this user; its result must not land after the eviction.
    this.#abandonFlights()
    return count
  }

  /** Forgets every token; returns how many entries went. */
  evictAll(): number {
    const count = this.#entries.clear()
    this.#abandonFlights()
    return count
  }

  counters(): TokenCacheCounters {
    const c = this.#counters
    const lookups = c.hits + c.misses + c.negativeHits
    return {
      size: this.#entries.size,
      max_entries: this.options.maxEntries,
      ttl_ms: this.options.ttlMs,
      hits: c.hits,
      misses: c.misses,
      hit_rate: lookups === 0 ? 0 : Math.round((c.hits / lookups) * 10_000) / 10_000,
      negative_hits: c.negativeHits,
      evictions: c.evictions,
      deduplicated: c.deduplicated,
      upstream_calls: c.upstreamCalls,
      upstream_errors: c.upstreamErrors,
    }
  }

  /** The counters plus upstream latency percentiles from the histogram. */
  async stats(): Promise<TokenCacheStats> {
    const latency = bucketsOf(await this.#latency.get()).get('') ?? { buckets: new Map(), count: 0 }
    return {
      ...this.counters(),
      upstream_p50_ms: quantileMs(latency, 0.5),
      upstream_p99_ms: quantileMs(latency, 0.99),
    }
  }

  async #fill(
    key: string,
    token: string,
    flight: Flight,
    enter?: () => Promise<() => void>,
  ): Promise<AuthUser | null> {
    // Not even shaped like a JWT: refuse without spending an upstream call.
    if (!isCompactJwt(token)) {
      this.#remember(key)
      return null
    }
    const release = await enter?.()
    this.#counters.upstreamCalls++
    const started = performance.now()
    let outcome: Awaited<ReturnType<TokenVerifier['verify']>>
    try {
      outcome = await this.verifier.verify(token)
    } catch (error) {
      this.#counters.upstreamErrors++
      throw error
    } finally {
      release?.()
      this.#latency.observe((performance.now() - started) / 1000)
    }
    if (!outcome.ok) {
      if (!flight.stale) this.#remember(key)
      return null
    }
    const user = await this.toUser(outcome.identity)
    const now = this.#now()
    const expiresAt = Math.min(
      now + this.options.ttlMs,
      outcome.identity.expiresAt ?? Number.POSITIVE_INFINITY,
    )
    if (!flight.stale && expiresAt > now) {
      // An empty session id names no session (the local verifier revokes such a token alone).
      const sessionId = outcome.identity.sessionId
      const session = sessionId ? sessionKey(sessionId) : undefined
      this.#entries.set(key, { user, session }, expiresAt)
    }
    return user
  }

  #remember(key: string) {
    this.#rejected.set(key, true, this.#now() + this.#negativeTtlMs)
  }

  #abandonFlight(key: string) {
    const flight = this.#flights.get(key)
    if (!flight) return
    flight.stale = true
    this.#flights.delete(key)
  }

  #abandonFlights() {
    for (const key of [...this.#flights.keys()]) this.#abandonFlight(key)
  }
}
