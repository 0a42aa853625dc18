import { describe, expect, test } from 'bun:test'
import { parseTrustProxy, type TrustProxy } from '@/config'
import { ipSubject, resolveClientIp } from '@/lib/http/client-ip'

function trust(value: string): TrustProxy {
  const parsed = parseTrustProxy(value)
  if ('error' in parsed) throw new Error(parsed.error)
  return parsed
}

describe('client address', () => {
  test('without TRUST_PROXY the socket peer is the client, whatever X-Forwarded-For says', () => {
    expect(resolveClientIp('203.0.113.9', '1.2.3.4', trust('false'))).toBe('203.0.113.9')
    expect(resolveClientIp('::ffff:203.0.113.9', undefined, trust(''))).toBe('203.0.113.9')
    expect(resolveClientIp(undefined, '1.2.3.4', trust('true'))).toBe('unknown')
  })

  test('TRUST_PROXY=true trusts one hop: the right-most entry, not the spoofable left ones', () => {
    expect(resolveClientIp('10.0.0.2', '6.6.6.6, 198.51.100.7', trust('true'))).toBe('198.51.100.7')
    expect(resolveClientIp('10.0.0.2', undefined, trust('true'))).toBe('10.0.0.2')
  })

  test('with ranges: the right-most hop outside them; untrusted peers are ignored', () => {
    const ranges = trust('loopback, 10.0.0.0/8')
    // Client-written junk on the left, then the real client, then our two proxies.
    expect(resolveClientIp('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.1.1.1', ranges)).toBe('198.51.100.7')
    // A peer outside the ranges is not a proxy of ours: its header is not believed.
    expect(resolveClientIp('198.51.100.50', '6.6.6.6', ranges)).toBe('198.51.100.50')
    // Every hop trusted: the furthest one.
    expect(resolveClientIp('127.0.0.1', '10.9.9.9, 10.1.1.1', ranges)).toBe('10.9.9.9')
    // A malformed hop stops the walk at the nearest address we can vouch for.
    expect(resolveClientIp('127.0.0.1', 'evil, 10.1.1.1', ranges)).toBe('10.1.1.1')
    // Ports and brackets as some proxies write them.
    expect(resolveClientIp('127.0.0.1', '198.51.100.7:5555', ranges)).toBe('198.51.100.7')
    expect(resolveClientIp('127.0.0.1', '[2001:db8::1]:443', ranges)).toBe('2001:db8::1')
  })

  test('IPv6 clients share one key per /64', () => {
    expect(ipSubject('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(ipSubject('2001:db8:1:2:bbbb::9')).toBe('2001:db8:1:2::/64')
    expect(ipSubject('198.51.100.7')).toBe('198.51.100.7')
  })

  test('TRUST_PROXY values that are not addresses, ranges or booleans are refused', () => {
    expect(parseTrustProxy('maybe')).toHaveProperty('error')
    expect(parseTrustProxy('10.0.0.0/33')).toHaveProperty('error')
    expect(parseTrustProxy('1.2.3')).toHaveProperty('error')
    expect(parseTrustProxy('010.0.0.0/8')).toHaveProperty('error')
    expect(trust('10.0.0.0/8, fd00::/8')).toMatchObject({ mode: 'ranges' })
    expect(trust('private,::1')).toMatchObject({ mode: 'ranges', names: ['private'] })
  })
})
