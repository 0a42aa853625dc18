import type { Context } from 'hono'
import ipaddr from 'ipaddr.js'
import type { AppEnv } from '@/lib/http/context'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/**
 * Which peers may tell us the client's address in `X-Forwarded-For`:
 * - `none` (the default): nobody; the client is the socket's peer, whatever headers say;
 * - `peer`: the immediate peer is our proxy (one hop), so the client is the right-most entry;
 * - `ranges`: peers in these ranges are our proxies; walking the header right to left, the
 *   client is the first address outside them (the right-most untrusted hop). Entries to its
 *   left were written by the client itself and prove nothing.
 */
export type TrustProxy =
  | { mode: 'none' }
  | { mode: 'peer' }
  | { mode: 'ranges'; ranges: [Address, number][]; names: string[] }

const NAMED_RANGES = ['loopback', 'private', 'linkLocal', 'uniqueLocal'] as const

/** Parses `TRUST_PROXY`: false | true | a comma list of IPs, CIDRs and loopback/private/linklocal/uniquelocal. */
export function parseTrustProxy(value: string | undefined): TrustProxy | { error: string } {
  const text = value?.trim().toLowerCase() ?? ''
  if (['', 'false', '0', 'no'].includes(text)) return { mode: 'none' }
  if (['true', '1', 'yes'].includes(text)) return { mode: 'peer' }
  const ranges: [Address, number][] = []
  const names: string[] = []
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const named = NAMED_RANGES.find((n) => n.toLowerCase() === item)
    if (named) names.push(named)
    else if (isStrictCidr(item)) ranges.push(ipaddr.parseCIDR(item))
    else if (isStrictAddress(item)) {
      const address = ipaddr.process(item)
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128])
    } else {
      return {
        error:
          'must be true, false, or a comma list of IPs, CIDRs and loopback/private/linklocal/uniquelocal',
      }
    }
  }
  return { mode: 'ranges', ranges, names }
}

// ipaddr.js also accepts octal and short IPv4 forms (`010.0.0.0/8` is 8.0.0.0/8): refuse them.
function isStrictCidr(text: string): boolean {
  return text.includes(':') ? ipaddr.IPv6.isValidCIDR(text) : ipaddr.IPv4.isValidCIDRFourPartDecimal(text)
}

function isStrictAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text)
}

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
export function clientIp(c: Context<AppEnv>): string {
  const known = c.get('clientIp')
  if (known !== undefined) return known
  const peer = c.env?.server?.requestIP(c.req.raw)?.address
  const ip = resolveClientIp(peer, c.req.header('x-forwarded-for'), c.get('services').config.TRUST_PROXY)
  c.set('clientIp', ip)
  return ip
}
