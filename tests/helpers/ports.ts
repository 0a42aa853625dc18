import { readFileSync } from 'node:fs'

// The kernel hands out "any free port" (port 0) from the same range it gives every outgoing
// connection's local port (ip_local_port_range, 32768–60999 here). A port found free that way
// and released can be taken by some other test's client socket before our server binds it: a
// Prism proxy failed with EADDRINUSE once three test workers ran at once. So test servers get a
// port below that range, at random and checked free, which no client socket is ever given; a
// process never gets the same one twice. (Two workers drawing the same port in the same instant
// remain possible, at about 1 in 20,000.)
const FLOOR = 10_000
const given = new Set<number>()

/** A TCP port that was free a moment ago on loopback, outside the kernel's ephemeral range. */
export function freePort(): number {
  const ceiling = ephemeralLow()
  for (let attempt = 0; ceiling - FLOOR >= 1_000 && attempt < 200; attempt++) {
    const port = FLOOR + Math.floor(Math.random() * (ceiling - FLOOR))
    if (given.has(port)) continue
    if (bindable(port)) {
      given.add(port)
      return port
    }
  }
  return kernelPort()
}

function bindable(port: number): boolean {
  try {
    Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
    return true
  } catch {
    return false
  }
}

function kernelPort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

/** The lowest port of the kernel's ephemeral range (Linux), else a common default. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 0 ? low : 32_768
  } catch {
    return 32_768
  }
}
