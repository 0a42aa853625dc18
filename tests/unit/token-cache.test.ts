import { describe, expect, test } from 'bun:test'
import { CountingVerifier, toTestUser } from '@tests/fakes/counting-verifier'
import { tokenKey } from '@/lib/auth/bearer'
import { TokenCache } from '@/lib/auth/token-cache'
import { AuthUnavailableError, type VerifyOutcome } from '@/lib/auth/types'

/**
 * Tokens `valid.<user>-<session>.<exp>`: several tokens of one session (a refreshed token)
 * differ only in `exp`.
 */
class SessionVerifier extends CountingVerifier {
  override async verify(token: string): Promise<VerifyOutcome> {
    const outcome = await super.verify(token)
    if (!outcome.ok) return outcome
    const [userId = '', sessionId] = outcome.identity.userId.split('-')
    return { ok: true, identity: { ...outcome.identity, userId, sessionId, claims: { sub: userId } } }
  }
}

function setup(options: { ttlMs?: number; maxEntries?: number } = {}) {
  let now = 1_000_000_000_000
  const verifier = new SessionVerifier()
  const cache = new TokenCache(verifier, toTestUser, {
    ttlMs: options.ttlMs ?? 60_000,
    maxEntries: options.maxEntries ?? 100,
    now: () => now,
  })
  return {
    cache,
    verifier,
    advance: (ms: number) => {
      now += ms
    },
    expSeconds: (msFromNow: number) => Math.floor((now + msFromNow) / 1000),
  }
}

describe('TokenCache', () => {
  test('a hit makes no upstream call', async () => {
    const { cache, verifier } = setup()
    expect((await cache.get('valid.u1.'))?.id).toBe('u1')
    expect((await cache.get('valid.u1.'))?.id).toBe('u1')
    expect(verifier.calls).toBe(1)
    expect(cache.counters()).toMatchObject({ hits: 1, misses: 1, upstream_calls: 1, size: 1, hit_rate: 0.5 })
  })

  test('an entry never outlives the token: exp in 2 s beats a 60 s TTL', async () => {
    const { cache, verifier, advance, expSeconds } = setup({ ttlMs: 60_000 })
    const token = `valid.u1.${expSeconds(2_000)}`
    expect(await cache.get(token)).not.toBeNull()
    advance(1_999)
    expect(await cache.get(token)).not.toBeNull()
    expect(verifier.calls).toBe(1)
    advance(2)
    // Past exp the cached entry is gone and the verifier is asked again (it would refuse).
    await cache.get(token)
    expect(verifier.calls).toBe(2)
  })

  test('the TTL bounds tokens that live longer', async () => {
    const { cache, verifier, advance, expSeconds } = setup({ ttlMs: 1_000 })
    const token = `valid.u1.${expSeconds(3_600_000)}`
    await cache.get(token)
    advance(1_001)
    await cache.get(token)
    expect(verifier.calls).toBe(2)
  })

  test('TTL 0 disables caching', async () => {
    const { cache, verifier } = setup({ ttlMs: 0 })
    await cache.get('valid.u1.')
    await cache.get('valid.u1.')
    expect(verifier.calls).toBe(2)
    expect(cache.counters().size).toBe(0)
  })

  test('100 concurrent misses for one token make exactly one upstream call', async () => {
    const { cache, verifier } = setup()
    verifier.delayMs = 20
    const users = await Promise.all(Array.from({ length: 100 }, () => cache.get('valid.u1.')))
    expect(users.every((u) => u?.id === 'u1')).toBe(true)
    expect(verifier.calls).toBe(1)
    expect(cache.counters().deduplicated).toBe(99)
  })

  test('50,000 distinct tokens leave the cache at its bound, evictions counted, LRU kept', async () => {
    const { cache } = setup({ maxEntries: 10_000 })
    await cache.get('valid.first.')
    for (let i = 0; i < 50_000; i++) {
      await cache.get(`valid.u${i}.`)
      // Touch "first" now and then so it stays recently used.
      if (i % 5_000 === 0) await cache.get('valid.first.')
    }
    const stats = cache.counters()
    expect(stats.size).toBe(10_000)
    expect(stats.evictions).toBe(50_001 - 10_000)
    const before = stats.upstream_calls
    expect(await cache.get('valid.first.')).not.toBeNull()
    expect(cache.counters().upstream_calls).toBe(before) // still cached
    await cache.get('valid.u0.')
    expect(cache.counters().upstream_calls).toBe(before + 1) // evicted long ago
  })

  test('a rejected token is remembered briefly, then asked again', async () => {
    const { cache, verifier, advance } = setup()
    expect(await cache.get('forged.x.y')).toBeNull()
    expect(await cache.get('forged.x.y')).toBeNull()
    expect(verifier.calls).toBe(1)
    expect(cache.counters().negative_hits).toBe(1)
    advance(5_001)
    await cache.get('forged.x.y')
    expect(verifier.calls).toBe(2)
  })

  test('upstream failures propagate, are counted, and are not remembered as invalid', async () => {
    const { cache, verifier } = setup()
    verifier.down = true
    await expect(cache.get('valid.u1.')).rejects.toBeInstanceOf(AuthUnavailableError)
    verifier.down = false
    expect((await cache.get('valid.u1.'))?.id).toBe('u1')
    expect(cache.counters()).toMatchObject({ upstream_calls: 2, upstream_errors: 1, negative_hits: 0 })
  })

  test('evicting a token refuses it at once and stops an in-flight fill from re-adding it', async () => {
    const { cache, verifier } = setup()
    verifier.delayMs = 30
    const inFlight = cache.get('valid.u1.')
    cache.evictToken(tokenKey('valid.u1.'))
    await inFlight
    expect(cache.counters().size).toBe(0)
    expect(await cache.get('valid.u1.')).toBeNull() // negative-cached after logout
    expect(verifier.calls).toBe(1)
  })

  test('logging out one token evicts every cached token of its session, and no other session', async () => {
    const { cache, verifier } = setup()
    const [first, refreshed, otherSession] = ['valid.a-s1.9999999999', 'valid.a-s1.9999999998', 'valid.a-s2.']
    for (const token of [first, refreshed, otherSession]) await cache.get(token)
    expect(verifier.calls).toBe(3)
    const evicted = cache.evictToken(tokenKey(first))
    expect(cache.counters().size).toBe(1)
    // The refreshed token of the ended session is asked about again (a revoking verifier says no)…
    expect((await cache.get(refreshed))?.id).toBe('a')
    expect(verifier.calls).toBe(4)
    // …while the user's other session is still answered from memory.
    expect((await cache.get(otherSession))?.id).toBe('a')
    expect(verifier.calls).toBe(4)
    expect(evicted).toBe(2)
  })

  test('a logout stops an in-flight fill of another token of the same session', async () => {
    const { cache, verifier } = setup()
    await cache.get('valid.a-s1.9999999999')
    verifier.delayMs = 30
    const refreshing = cache.get('valid.a-s1.9999999998')
    cache.evictToken(tokenKey('valid.a-s1.9999999999'))
    await refreshing
    expect(cache.counters().size).toBe(0)
  })

  test("evicting a user drops all of that user's tokens and nobody else's", async () => {
    const { cache } = setup()
    await cache.get('valid.a.9999999999')
    await cache.get('valid.a.9999999998')
    await cache.get('valid.b.')
    expect(cache.evictUser('a')).toBe(2) // the fake's idHash is the id itself
    expect(cache.counters().size).toBe(1)
    expect(cache.evictAll()).toBe(1)
    expect(cache.counters().size).toBe(0)
  })

  test('upstream latency percentiles are reported', async () => {
    const { cache, verifier } = setup()
    verifier.delayMs = 5
    for (let i = 0; i < 5; i++) await cache.get(`valid.p${i}.`)
    const stats = await cache.stats()
    expect(stats.upstream_p50_ms).toBeGreaterThanOrEqual(4)
    expect(stats.upstream_p99_ms).toBeGreaterThanOrEqual(stats.upstream_p50_ms)
  })
})

test('a token not shaped like a JWT is refused without an upstream call', async () => {
  const { cache, verifier } = setup()
  expect(await cache.get('not a jwt')).toBeNull()
  expect(await cache.get('a.b')).toBeNull()
  expect(verifier.calls).toBe(0)
})
