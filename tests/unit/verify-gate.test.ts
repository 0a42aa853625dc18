import { describe, expect, test } from 'bun:test'
import { ApiError } from '@/lib/errors/api-error'
import { VerifyGate } from '@/lib/http/verify-gate'

describe('VerifyGate', () => {
  test('at most perAddress in flight per subject, others wait in order and get the slot on release', async () => {
    const gate = new VerifyGate({ perAddress: 2, lockedPerAddress: 1, maxWaiting: 10 })
    const first = await gate.acquire('a', false)
    const second = await gate.acquire('a', false)
    const order: string[] = []
    const third = gate.acquire('a', false).then((release) => {
      order.push('third')
      return release
    })
    // Another address is not held up by this one.
    const other = await gate.acquire('b', false)
    expect(gate.inFlight('a')).toBe(2)
    await Bun.sleep(1)
    expect(order).toEqual([])
    first()
    first() // a second release of the same slot changes nothing
    const releaseThird = await third
    expect(order).toEqual(['third'])
    expect(gate.inFlight('a')).toBe(2)
    second()
    releaseThird()
    other()
    expect(gate.inFlight('a')).toBe(0)
    expect(gate.inFlight('b')).toBe(0)
  })

  test('a locked subject gets one slot; past maxWaiting a verification is refused with 429', async () => {
    const gate = new VerifyGate({ perAddress: 8, lockedPerAddress: 1, maxWaiting: 2 })
    const held = await gate.acquire('a', true)
    const waiting = [gate.acquire('a', true), gate.acquire('a', true)]
    const refused = await gate.acquire('a', true).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ApiError)
    expect((refused as ApiError).code).toBe('RATE_LIMITED')
    expect((refused as ApiError).headers['Retry-After']).toBe('1')
    held()
    for (const next of waiting) (await next)()
    expect(gate.inFlight('a')).toBe(0)
  })
})
