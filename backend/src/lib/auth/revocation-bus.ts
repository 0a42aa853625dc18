import type { Logger } from '@/lib/log'
import type { RedisConnection } from '@/lib/redis/connection'

/**
 * What one instance tells the others to forget from their token caches. Tokens travel only as
 * their SHA-256 key (see bearer.ts), sessions as `sessionKey(id)` (token-cache.ts) and users as
 * the hash of their id, never raw.
 */
export type Revocation =
  | {
      kind: 'token'
      key: string
      /**
       * The logged-out token's session: every cached token of it goes. Optional in the message
       * so an instance of the previous version still evicts the token (it ignores the field).
       */
      session?: string
    }
  | { kind: 'user'; userHash: string }
  | { kind: 'all' }

const SHA256_HEX = /^[0-9a-f]{64}$/

export interface RevocationBus {
  /** Tells every other instance; never throws (a failure is logged and the TTL still bounds it). */
  publish(revocation: Revocation): Promise<void>
  /**
   * `onRevocation` runs for each message from another instance. `onResync` runs after the bus
   * reconnects: messages sent meanwhile were lost, so everything cached must be distrusted.
   */
  subscribe(onRevocation: (revocation: Revocation) => void, onResync: () => void): void
  /** Whether announcements from other instances are being received right now. */
  readonly listening: boolean
  close(): void
}

const CHANNEL = 'pilar:auth:revocations'

function parse(message: string): Revocation | undefined {
  try {
    const value = JSON.parse(message) as Partial<Revocation> & {
      key?: unknown
      session?: unknown
      userHash?: unknown
    }
    if (value.kind === 'all') return { kind: 'all' }
    if (value.kind === 'token' && typeof value.key === 'string' && SHA256_HEX.test(value.key)) {
      if (value.session === undefined) return { kind: 'token', key: value.key }
      // Anything but a session key here is not ours: drop the message rather than half-apply it.
      if (typeof value.session !== 'string' || !SHA256_HEX.test(value.session)) return undefined
      return { kind: 'token', key: value.key, session: value.session }
    }
    if (value.kind === 'user' && typeof value.userHash === 'string')
      return { kind: 'user', userHash: value.userHash }
  } catch {}
  return undefined
}

/**
 * Redis pub/sub between instances: a logout on one instance evicts the session's tokens from
 * every other instance's cache, so they are refused everywhere at once instead of after the
 * cache TTL.
 * Publishing goes over the shared command connection; listening needs its own connection
 * (a subscribed Redis connection can do nothing else).
 */
export class RedisRevocationBus implements RevocationBus {
  /** Tags this instance's own messages, which it has already applied locally. */
  readonly #origin = crypto.randomUUID()
  #listening = false

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

  /** True once the subscription is in place on the current connection. */
  get listening(): boolean {
    return this.#listening && this.listener.connected
  }

  async #subscribe(handle: (message: string) => void) {
    this.#listening = false
    try {
      // Bun's client does not renew subscriptions after a reconnect (measured on Bun 1.4.5: a
      // PUBLISH then reaches nobody), and subscribing again adds the listener a second time:
      // drop the stale registration, then subscribe afresh.
      // (Bun throws if the client is not in subscriber mode, e.g. on a fresh connection.)
      try {
        await this.listener.client.unsubscribe(CHANNEL)
      } catch {}
      await this.listener.client.subscribe(CHANNEL, handle)
      this.#listening = true
    } catch (error) {
      this.logger.warn({ err: error }, 'could not subscribe to token revocations; retrying on reconnect')
    }
  }

  close(): void {
    this.listener.close()
  }
}
