import { isCompactJwt, tokenKey } from '@/lib/auth/bearer'
import type { AuthUser, TokenVerifier, VerifiedIdentity } from '@/lib/auth/types'

export interface TokenCacheOptions {
  /** How long a verified token is served from memory (AUTH_CACHE_TTL_MS); 0 disables caching. */
  ttlMs: number
  /** LRU bound (AUTH_CACHE_MAX_ENTRIES). */
  maxEntries: number
  /** How long a rejected token is remembered, so floods of bad tokens don't reach upstream. */
  negativeTtlMs?: number
  negativeMaxEntries?: number
  /** Injectable clock for tests. */
  now?: () => number
}

export interface TokenCacheStats {
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
  upstream_p50_ms: number
  upstream_p99_ms: number
}

interface Entry {
  user: AuthUser
  expiresAt: number
}

interface Flight {
  promise: Promise<AuthUser | null>
  /** Set when the token or its user was invalidated while the flight was under way. */
  stale: boolean
}

const LATENCY_SAMPLES = 1_024

function percentile(samples: Float64Array, count: number, p: number): number {
  if (count === 0) return 0
  const sorted = Array.from(samples.subarray(0, count)).sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 100) / 100
}

/**
 * A TTL + LRU cache in front of a `TokenVerifier`, so a request costs a hash and a map lookup.
 * It is never looser than asking the verifier:
 * - keys are SHA-256 of the token; raw tokens are never stored;
 * - an entry lives `min(ttl, token exp − now)`: a cached user is never served past the token's expiry;
 * - concurrent misses for one token share one upstream call (single flight);
 * - a rejected token is remembered briefly (negative cache);
 * - logout and admin invalidation evict at once, including fills that are still in flight.
 * Verifier failures (auth server down) propagate: they are not "invalid token".
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>()
  readonly #rejected = new Map<string, number>()
  readonly #flights = new Map<string, Flight>()
  readonly #now: () => number
  readonly #negativeTtlMs: number
  readonly #negativeMaxEntries: number
  readonly #latencies = new Float64Array(LATENCY_SAMPLES)
  #latencyCount = 0
  #latencyNext = 0
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
    this.#negativeMaxEntries = options.negativeMaxEntries ?? 10_000
  }

  /**
   * The user for a token, or null when the token is invalid; rejects when it cannot tell.
   * Answers from memory synchronously — no promise on the hot path — and returns a promise
   * only when the verifier has to be asked.
   */
  get(token: string): AuthUser | null | Promise<AuthUser | null> {
    const key = tokenKey(token)
    const now = this.#now()
    const entry = this.#entries.get(key)
    if (entry) {
      if (entry.expiresAt > now) {
        // Re-insert to mark as most recently used (Map keeps insertion order).
        this.#entries.delete(key)
        this.#entries.set(key, entry)
        this.#counters.hits++
        return entry.user
      }
      this.#entries.delete(key)
    }
    const rejectedUntil = this.#rejected.get(key)
    if (rejectedUntil !== undefined) {
      if (rejectedUntil > now) {
        this.#counters.negativeHits++
        return null
      }
      this.#rejected.delete(key)
    }
    this.#counters.misses++
    const inFlight = this.#flights.get(key)
    if (inFlight) {
      this.#counters.deduplicated++
      return inFlight.promise
    }
    const flight: Flight = { promise: Promise.resolve(null), stale: false }
    flight.promise = this.#fill(key, token, flight).finally(() => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key)
    })
    this.#flights.set(key, flight)
    return flight.promise
  }

  /**
   * The cached user for a token, without asking anyone on a miss: lets callers treat a
   * known-good token differently from one that is about to be verified.
   */
  peek(token: string): AuthUser | undefined {
    const key = tokenKey(token)
    const entry = this.#entries.get(key)
    if (!entry || entry.expiresAt <= this.#now()) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    this.#counters.hits++
    return entry.user
  }

  /** Forgets one token (logout) and refuses it briefly without asking upstream. */
  evictToken(token: string): boolean {
    return this.evictKey(tokenKey(token))
  }

  /** `evictToken` by the token's hash, as other instances announce it (never the raw token). */
  evictKey(key: string): boolean {
    this.#abandonFlight(key)
    this.#remember(key)
    return this.#entries.delete(key)
  }

  /** `evictUser` by the hash of the user id, as other instances announce it. */
  evictUserHash(idHash: string): number {
    let count = 0
    for (const [key, entry] of this.#entries) {
      if (entry.user.idHash === idHash) {
        this.#entries.delete(key)
        count++
      }
    }
    for (const key of [...this.#flights.keys()]) this.#abandonFlight(key)
    return count
  }

  /** Forgets every token of one user, or everything; returns how many entries went. */
  evictUser(userId?: string): number {
    if (userId === undefined) {
      const count = this.#entries.size
      this.#entries.clear()
      for (const key of [...this.#flights.keys()]) this.#abandonFlight(key)
      return count
    }
    let count = 0
    for (const [key, entry] of this.#entries) {
      if (entry.user.id === userId) {
        this.#entries.delete(key)
        count++
      }
    }
    // A fill under way may belong to this user; its result must not land after the eviction.
    for (const key of [...this.#flights.keys()]) this.#abandonFlight(key)
    return count
  }

  stats(): TokenCacheStats {
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
      upstream_p50_ms: percentile(this.#latencies, this.#latencyCount, 50),
      upstream_p99_ms: percentile(this.#latencies, this.#latencyCount, 99),
    }
  }

  async #fill(key: string, token: string, flight: Flight): Promise<AuthUser | null> {
    // Not even shaped like a JWT: refuse without spending an upstream call.
    if (!isCompactJwt(token)) {
      this.#remember(key)
      return null
    }
    this.#counters.upstreamCalls++
    const started = performance.now()
    let outcome: Awaited<ReturnType<TokenVerifier['verify']>>
    try {
      outcome = await this.verifier.verify(token)
    } catch (error) {
      this.#counters.upstreamErrors++
      throw error
    } finally {
      this.#recordLatency(performance.now() - started)
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
    if (!flight.stale && expiresAt > now) this.#store(key, { user, expiresAt })
    return user
  }

  #store(key: string, entry: Entry) {
    this.#entries.delete(key)
    while (this.#entries.size >= this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
      this.#counters.evictions++
    }
    this.#entries.set(key, entry)
  }

  #remember(key: string) {
    this.#rejected.delete(key)
    while (this.#rejected.size >= this.#negativeMaxEntries) {
      const oldest = this.#rejected.keys().next().value
      if (oldest === undefined) break
      this.#rejected.delete(oldest)
    }
    this.#rejected.set(key, this.#now() + this.#negativeTtlMs)
  }

  #abandonFlight(key: string) {
    const flight = this.#flights.get(key)
    if (!flight) return
    flight.stale = true
    this.#flights.delete(key)
  }

  #recordLatency(ms: number) {
    this.#latencies[this.#latencyNext] = ms
    this.#latencyNext = (this.#latencyNext + 1) % LATENCY_SAMPLES
    this.#latencyCount = Math.min(this.#latencyCount + 1, LATENCY_SAMPLES)
  }
}
