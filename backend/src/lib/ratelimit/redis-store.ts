import { type Decision, decision, EPSILON_MS } from '@/lib/ratelimit/gcra'
import type { RateLimitStore } from '@/lib/ratelimit/store'
import type { RedisConnection } from '@/lib/redis/connection'

/**
 * `gcra()` from gcra.ts as one Lua script, so a check is a single atomic step on the server: no
 * read-then-write race between instances. The clock is Redis's own (`TIME`), so instances with
 * skewed clocks still share one timeline. The key expires when its quota is whole again (at
 * least 1 ms: with huge limits the interval is below the clock's float resolution). Returns
 * {allowed, used µs}.
 *   KEYS[1] the key   ARGV[1] limit   ARGV[2] window ms   ARGV[3] 1 = consume, 0 = peek
 */
const SCRIPT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval
if nxt - now <= window + ${EPSILON_MS} then
  if ARGV[3] == '1' then
    redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', math.max(1, math.ceil(nxt - now)))
    return {1, math.floor((nxt - now) * 1000)}
  end
  return {1, math.floor((tat - now) * 1000)}
end
return {0, math.floor((tat - now) * 1000)}
`

/** Rate-limit state shared by every instance through Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const
  #sha: string | undefined

  constructor(private readonly redis: RedisConnection) {}

  async check(key: string, limit: number, windowMs: number, consume: boolean): Promise<Decision> {
    const args = ['1', key, String(limit), String(windowMs), consume ? '1' : '0']
    let reply: unknown
    try {
      this.#sha ??= String(await this.redis.send('SCRIPT', ['LOAD', SCRIPT]))
      reply = await this.redis.send('EVALSHA', [this.#sha, ...args])
    } catch (error) {
      // A restarted Redis has forgotten the script: load it again once.
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
      this.#sha = undefined
      reply = await this.redis.send('EVAL', [SCRIPT, ...args])
    }
    const [allowed, usedMicros] = reply as [number, number]
    return decision(allowed === 1, usedMicros / 1000, limit, windowMs)
  }

  close() {}
}
