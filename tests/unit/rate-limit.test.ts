import { describe, expect, test } from 'bun:test'
import { createLogger } from '@/lib/log'
import { decision, gcra } from '@/lib/ratelimit/gcra'
import { RateLimiter } from '@/lib/ratelimit/limiter'
import { MemoryRateLimitStore } from '@/lib/ratelimit/memory-store'
import { policiesFrom } from '@/lib/ratelimit/policies'
import type { RateLimitStore } from '@/lib/ratelimit/store'

describe('GCRA', () => {
  test('a full quota can be spent at once, then one request per window/limit', () => {
    let tat = 0
    const now = 1_000_000
    for (let i = 0; i < 10; i++) {
      const step = gcra(tat, now, 10, 60_000, true)
      expect(step.allowed).toBe(true)
      tat = step.tat
    }
    expect(gcra(tat, now, 10, 60_000, true).allowed).toBe(false)
    // One interval (6 s) later exactly one more is allowed.
    expect(gcra(tat, now + 5_999, 10, 60_000, true).allowed).toBe(false)
    const later = gcra(tat, now + 6_000, 10, 60_000, true)
    expect(later.allowed).toBe(true)
    expect(gcra(later.tat, now + 6_000, 10, 60_000, true).allowed).toBe(false)
  })

  test('limits that do not divide the window evenly still allow exactly `limit` at once', () => {
    for (const limit of [3, 7, 13, 97]) {
      let tat = 0
      let allowed = 0
      for (let i = 0; i < limit * 2; i++) {
        const step = gcra(tat, 5_000, limit, 60_000, true)
        if (step.allowed) allowed++
        tat = step.tat
      }
      expect(allowed).toBe(limit)
    }
  })

  test('header figures: remaining counts down, reset is when the quota is whole again', () => {
    const first = gcra(0, 0, 4, 60_000, true)
    expect(decision(first.allowed, first.usedMs, 4, 60_000)).toEqual({
      allowed: true,
      limit: 4,
      remaining: 3,
      resetMs: 15_000,
      retryAfterMs: 0,
    })
    let tat = first.tat
    for (let i = 0; i < 3; i++) tat = gcra(tat, 0, 4, 60_000, true).tat
    const refused = gcra(tat, 1_000, 4, 60_000, true)
    expect(decision(refused.allowed, refused.usedMs, 4, 60_000)).toEqual({
      allowed: false,
      limit: 4,
      remaining: 0,
      resetMs: 59_000,
      // The next unit frees up one interval (15 s) after the burst, i.e. 14 s from now.
      retryAfterMs: 14_000,
    })
  })

  test('peeking never spends quota', () => {
    const step = gcra(0, 0, 1, 1_000, false)
    expect(step).toEqual({ allowed: true, tat: 0, usedMs: 0 })
    const spent = gcra(0, 0, 1, 1_000, true)
    expect(gcra(spent.tat, 0, 1, 1_000, false).allowed).toBe(false)
  })
})

describe('MemoryRateLimitStore', () => {
  test('keys are independent and a refused check spends nothing', () => {
    let now = 0
    const store = new MemoryRateLimitStore(1_000, () => now)
    expect(store.check('a', 2, 1_000, true).allowed).toBe(true)
    expect(store.check('a', 2, 1_000, true).allowed).toBe(true)
    expect(store.check('a', 2, 1_000, true).allowed).toBe(false)
    expect(store.check('b', 2, 1_000, true).allowed).toBe(true)
    // Refusals did not push the key further out: one interval later one request is allowed.
    for (let i = 0; i < 5; i++) store.check('a', 2, 1_000, true)
    now = 500
    expect(store.check('a', 2, 1_000, true).allowed).toBe(true)
  })

  test('stays within its key bound, dropping the least recently used key', () => {
    const store = new MemoryRateLimitStore(100, () => 0)
    for (let i = 0; i < 250; i++) store.check(`k${i}`, 1, 60_000, true)
    expect(store.size).toBe(100)
    expect(store.evictions).toBe(150)
    // The newest keys are still limited; the oldest were forgotten.
    expect(store.check('k249', 1, 60_000, true).allowed).toBe(false)
    expect(store.check('k0', 1, 60_000, true).allowed).toBe(true)
  })

  test('a key written again in a row keeps its most-recent place; eviction still follows last use', () => {
    const remaining = (store: MemoryRateLimitStore, key: string) =>
      store.check(key, 10, 60_000, true).remaining
    // a, b, b (written twice in a row), then c: a is the least recently used and is dropped.
    const first = new MemoryRateLimitStore(2, () => 0)
    remaining(first, 'a')
    remaining(first, 'b')
    remaining(first, 'b')
    remaining(first, 'c')
    expect(first.evictions).toBe(1)
    expect(remaining(first, 'b')).toBe(7) // kept: its third unit
    expect(remaining(first, 'a')).toBe(9) // forgotten: a fresh quota
    // a, b, a, a, then c: b is now the least recently used.
    const second = new MemoryRateLimitStore(2, () => 0)
    remaining(second, 'a')
    remaining(second, 'b')
    remaining(second, 'a')
    remaining(second, 'a')
    remaining(second, 'c')
    expect(remaining(second, 'a')).toBe(6)
    expect(remaining(second, 'b')).toBe(9)
  })

  test('entries whose quota is whole again are dropped, not kept', () => {
    let now = 0
    const store = new MemoryRateLimitStore(100, () => now)
    store.check('idle', 10, 1_000, true)
    expect(store.size).toBe(1)
    now = 5_000
    store.check('idle', 10, 1_000, false)
    expect(store.size).toBe(0)
  })
})

describe('fail open or closed, per policy', () => {
  const down: RateLimitStore = {
    kind: 'redis',
    check() {
      throw new Error('connection refused')
    },
    close() {},
  }
  const limits = { api: 600, anon: 300, ai: 20, auth_failures: 30, ingest: 10, ready: 300 }

  test('ai and auth_failures refuse while the store is down; api and anon allow unless configured', () => {
    const outcomes = (failClosed: boolean) => {
      const limiter = new RateLimiter(
        down,
        policiesFrom({ enabled: true, windowSeconds: 60, limits, failClosed }),
        { logger: createLogger('silent'), recorder: { rejected() {}, storeFailure() {} } },
      )
      const names = ['api', 'anon', 'ai', 'auth_failures'] as const
      return Object.fromEntries(
        names.map((name) => [name, limiter.check(name, 'k') === null ? 'open' : 'closed']),
      )
    }
    expect(outcomes(false)).toEqual({ api: 'open', anon: 'open', ai: 'closed', auth_failures: 'closed' })
    expect(outcomes(true)).toEqual({ api: 'closed', anon: 'closed', ai: 'closed', auth_failures: 'closed' })
  })
})

describe('RateLimiter keys', () => {
  const limits = { api: 3, anon: 2, ai: 20, auth_failures: 30, ingest: 10, ready: 300 }
  const newLimiter = (store: RateLimitStore) =>
    new RateLimiter(store, policiesFrom({ enabled: true, windowSeconds: 60, limits, failClosed: false }), {
      logger: createLogger('silent'),
      recorder: { rejected() {}, storeFailure() {} },
    })

  test('one key per policy and subject, the same across the reuse bound: a subject keeps its count', () => {
    const keys: string[] = []
    const memory = new MemoryRateLimitStore(100_000)
    const recording: RateLimitStore = {
      kind: 'memory',
      check(key, limit, windowMs, consume) {
        keys.push(key)
        return memory.check(key, limit, windowMs, consume)
      },
      close() {},
    }
    const limiter = newLimiter(recording)
    const remaining = (name: 'api' | 'anon', subject: string) => {
      const outcome = limiter.check(name, subject)
      if (outcome instanceof Promise || !outcome) throw new Error('expected a decision')
      return outcome.remaining
    }
    expect(remaining('api', 'alice')).toBe(2)
    // The same subject under another policy is another quota.
    expect(remaining('anon', 'alice')).toBe(1)
    // More subjects than the limiter keeps keys for: alice's key is rebuilt, and still hers.
    for (let i = 0; i < 10_001; i++) limiter.check('api', `user-${i}`)
    expect(remaining('api', 'alice')).toBe(1)
    expect(remaining('api', 'alice')).toBe(0)
    const alices = [...new Set(keys.filter((key) => key.endsWith(':alice')))]
    expect(alices).toEqual(['pilar:rl:api:3/60000:alice', 'pilar:rl:anon:2/60000:alice'])
  })
})
