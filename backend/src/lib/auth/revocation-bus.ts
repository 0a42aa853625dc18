import type { Logger } from '@/lib/log'
import type { RedisConnection } from '@/lib/redis/connection'

/**
 * What one instance tells the others to forget from their token caches. Tokens travel only as
 * their SHA-256 key (see bearer.ts), never raw.
 */
export type Revocation = { kind: 'token'; key: string } | { kind: 'user'; userId: string } | { kind: 'all' }

export interface RevocationBus {
  /** Tells every other instance; never throws (a failure is logged and the TTL still bounds it). */
  publish(revocation: Revocation): Promise<void>
  /**
   * `onRevocation` runs for each message from another instance. `onResync` runs after the bus
   * reconnects: messages sent meanwhile were lost, so everything cached must be distrusted.
   */
  subscribe(onRevocation: (revocation: Revocation) => void, onResync: () => void): void
  close(): void
}

const CHANNEL = 'pilar:auth:revocations'

function parse(message: string): Revocation | undefined {
  try {
    const value = JSON.parse(message) as Partial<Revocation> & { key?: unknown; userId?: unknown }
    if (value.kind === 'all') return { kind: 'all' }
    if (value.kind === 'token' && typeof value.key === 'string' && /^[0-9a-f]{64}$/.test(value.key)) {
      return { kind: 'token', key: value.key }
    }
    if (value.kind === 'user' && typeof value.userId === 'string')
      return { kind: 'user', userId: value.userId }
  } catch {}
  return undefined
}

/**
 * Redis pub/sub between instances: a logout on one instance evicts the token from every other
 * instance's cache, so it is refused everywhere at once instead of after the cache TTL.
 * Publishing goes over the shared command connection; listening needs its own connection
 * (a subscribed Redis connection can do nothing else).
 */
export class RedisRevocationBus implements RevocationBus {
  /** Tags this instance's own messages, which it has already applied locally. */
  readonly #origin = crypto.randomUUID()
  #subscribed = false

  constructor(
    private readonly commands: RedisConnection,
    private readonly listener: RedisConnection,
    private readonly logger: Logger,
  ) {}

  async publish(revocation: Revocation): Promise<void> {
    try {
      await this.commands.send('PUBLISH', [CHANNEL, JSON.stringify({ ...revocation, origin: this.#origin })])
    } catch (error) {
      this.logger.warn(
        { err: error, kind: revocation.kind },
        'could not announce a token revocation to other instances; their caches expire it within the TTL',
      )
    }
  }

  subscribe(onRevocation: (revocation: Revocation) => void, onResync: () => void): void {
    const handle = (message: string) => {
      if (message.includes(this.#origin)) return
      const revocation = parse(message)
      if (revocation) onRevocation(revocation)
      else this.logger.warn('ignored a malformed token revocation message')
    }
    // Any (re)connection after this point may follow a gap in which messages were missed.
    this.listener.onConnect(() => {
      onResync()
      void this.#subscribe(handle)
    })
    if (this.listener.connected) void this.#subscribe(handle)
  }

  async #subscribe(handle: (message: string) => void) {
    if (this.#subscribed) return
    this.#subscribed = true
    try {
      // Bun's client renews its subscriptions by itself after a reconnect.
      await this.listener.client.subscribe(CHANNEL, handle)
    } catch (error) {
      this.#subscribed = false
      this.logger.warn({ err: error }, 'could not subscribe to token revocations; retrying on reconnect')
    }
  }

  close(): void {
    this.listener.close()
  }
}
