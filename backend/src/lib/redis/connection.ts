import { RedisClient } from 'bun'
import type { Logger } from '@/lib/log'

/** Redis could not answer in time (down, restarting, unreachable or slow). */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError'
}

export interface RedisConnectionOptions {
  /** A command that takes longer than this fails (the caller falls back) instead of waiting. */
  commandTimeoutMs: number
  /** How long to wait before asking Bun's client to connect again after it gave up. */
  reconnectDelayMs?: number
}

/**
 * One Redis connection (Bun's built-in client) that never makes a request wait for Redis to come
 * back: the offline queue is off, so a command sent while disconnected fails at once, and every
 * command has a deadline. Bun reconnects on its own after a dropped connection; when it gives up
 * (or the first connect fails) this class asks it again every `reconnectDelayMs`.
 */
export class RedisConnection {
  readonly client: RedisClient
  readonly #reconnectDelayMs: number
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined
  #closed = false
  /** Listeners for every (re)connection, e.g. to resubscribe or to distrust what was missed. */
  readonly #onConnect: (() => void)[] = []

  constructor(
    url: string,
    private readonly name: string,
    private readonly logger: Logger,
    private readonly options: RedisConnectionOptions,
  ) {
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 1_000
    this.client = new RedisClient(url, {
      enableOfflineQueue: false,
      autoReconnect: true,
      maxRetries: 1_000,
      connectionTimeout: 2_000,
    })
    this.client.onconnect = () => {
      this.logger.info({ redis: this.name }, 'redis connected')
      for (const listener of this.#onConnect) listener()
    }
    this.client.onclose = (error) => {
      if (this.#closed) return
      this.logger.warn({ redis: this.name, err: error }, 'redis connection closed')
      this.#scheduleReconnect()
    }
  }

  get connected(): boolean {
    return this.client.connected
  }

  onConnect(listener: () => void) {
    this.#onConnect.push(listener)
  }

  /** Connects, or schedules retries if Redis is not there yet; never throws. */
  async start(): Promise<boolean> {
    try {
      await this.#deadline(this.client.connect(), 'connect')
      return true
    } catch (error) {
      this.logger.warn({ redis: this.name, err: error }, 'redis unreachable; retrying in the background')
      this.#scheduleReconnect()
      return false
    }
  }

  /**
   * Sends one command. Fails fast with RedisUnavailableError when not connected or past the
   * deadline; errors Redis itself answers with (such as NOSCRIPT) pass through unchanged.
   */
  async send(command: string, args: string[]): Promise<unknown> {
    if (!this.client.connected) throw new RedisUnavailableError(`redis (${this.name}) is not connected`)
    return this.#deadline(this.client.send(command, args), command)
  }

  close() {
    this.#closed = true
    clearTimeout(this.#reconnectTimer)
    this.client.close()
  }

  #scheduleReconnect() {
    if (this.#closed || this.#reconnectTimer) return
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      if (this.#closed || this.client.connected) return
      this.client.connect().catch(() => this.#scheduleReconnect())
    }, this.#reconnectDelayMs)
    this.#reconnectTimer.unref?.()
  }

  #deadline<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RedisUnavailableError(
              `redis (${this.name}) ${what} took over ${this.options.commandTimeoutMs} ms`,
            ),
          ),
        this.options.commandTimeoutMs,
      )
    })
    return Promise.race([work, timeout]).then(
      (value) => {
        clearTimeout(timer)
        return value
      },
      (error: unknown) => {
        clearTimeout(timer)
        throw error
      },
    )
  }
}
