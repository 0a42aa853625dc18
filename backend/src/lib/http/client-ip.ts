import type { Context } from 'hono'
import ipaddr from 'ipaddr.js'
import { isStrictAddress, type TrustProxy } from '@/config'
import type { HttpEnv } from '@/lib/http/context'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** An address from a header entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`. */
function parseHop(raw: string): Address | undefined {
  let text = raw.trim()
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text)
  if (bracketed?.[1]) text = bracketed[1]
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'))
  // IPv4-mapped IPv6 (::ffff:1.2.3.4) becomes plain IPv4, so one client has one key.
  return isStrictAddress(text) ? ipaddr.process(text) : undefined
}

function trusted(address: Address, trust: Extract<TrustProxy, { mode: 'ranges' }>): boolean {
  const range = address.range()
  if (trust.names.some((name) => name === range)) return true
  return trust.ranges.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))
}

/** The client's address by the rules above; `unknown` when there is no socket (in-process tests). */
export function resolveClientIp(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trust: TrustProxy,
): string {
  // The common case costs no parsing: Bun already gives a canonical address.
  if (trust.mode === 'none' && peer !== undefined && !peer.includes(':')) return peer
  const peerAddress = peer === undefined ? undefined : parseHop(peer)
  if (!peerAddress) return 'unknown'
  if (trust.mode === 'none' || !forwardedFor) return peerAddress.toString()
  if (trust.mode === 'ranges' && !trusted(peerAddress, trust)) return peerAddress.toString()
  const hops = forwardedFor.split(',')
  // The hop nearest to us that we can vouch for; a malformed entry stops the walk there.
  let nearest: Address = peerAddress
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i] ?? '')
    if (!hop) return nearest.toString()
    if (trust.mode === 'peer' || !trusted(hop, trust)) return hop.toString()
    nearest = hop
  }
  return nearest.toString()
}

/**
 * The rate-limit subject for an address. IPv6 clients are keyed by their /64 prefix: one
 * subscriber usually holds a whole /64 and could otherwise take a fresh address per request.
 */
export function ipSubject(ip: string): string {
  if (!ip.includes(':') || !ipaddr.IPv6.isValid(ip)) return ip
  const parts = ipaddr.IPv6.parse(ip).parts.slice(0, 4)
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`
}

/** The request's client address, computed once per request. */
export function clientIp<E extends HttpEnv>(c: Context<E>): string {
  const known = c.get('clientIp')
  if (known !== undefined) return known
  const peer = c.env?.server?.requestIP(c.req.raw)?.address
  const ip = resolveClientIp(peer, c.req.header('x-forwarded-for'), c.get('http').trustProxy)
  c.set('clientIp', ip)
  return ip
}
