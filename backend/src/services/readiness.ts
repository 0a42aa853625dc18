import type { Database } from '@/lib/db/database'
import { type MigrationFile, migrationStatus } from '@/lib/db/migrations'
import type { Lifecycle } from '@/lib/lifecycle'
import type { LlmRouter } from '@/lib/llm/router'
import type { RateLimiter } from '@/lib/ratelimit/limiter'
import type { RedisConnection } from '@/lib/redis/connection'
import type { AuthService } from '@/services/auth'
import type { KnowledgeService } from '@/services/knowledge/service'

export type CheckStatus = 'ok' | 'error'

export interface ReadyReport {
  status: 'ready' | 'degraded' | 'not_ready'
  checks: {
    database: { status: CheckStatus; kind: Database['kind']; latency_ms?: number; error?: string }
    migrations: { status: CheckStatus; applied: number; pending: string[] }
    auth: { status: CheckStatus; mode: 'local' | 'supabase'; breaker?: 'closed' | 'open' | 'half_open' }
    /**
     * `pending`: chunks stored without a vector (embedder down at ingest or publish), found by
     * full text until the backfill fills them in. A count, not a failure: status stays as the
     * embedder's own (docs/decisions.md "Pending embeddings"). Absent when the database is down.
     */
    embeddings: ReturnType<KnowledgeService['readiness']> & { pending?: number }
    llm: { status: CheckStatus; providers: { name: string; state: 'closed' | 'open' | 'half_open' }[] }
    rate_limits: {
      status: CheckStatus
      store: 'memory' | 'redis' | 'off'
      redis?: 'connected' | 'disconnected'
    }
  }
  shutting_down: boolean
}

const PING_TIMEOUT_MS = 2_000

/**
 * How long one database probe (ping + migration status) answers `/ready`. `/ready` is public
 * and limited per address, so without TRUST_PROXY a flood through a load balancer shares the
 * balancer's own quota; the cache keeps what such a flood costs to one probe a second, and
 * concurrent calls share the probe in flight.
 */
export const READINESS_CACHE_MS = 1_000

type StorageChecks = Pick<ReadyReport['checks'], 'database' | 'migrations'> & {
  /** Chunks waiting for a vector; undefined when the database could not say. */
  pendingEmbeddings?: number
}

/** A database probe; `settledAt` (performance.now()) unset while it is in flight. */
interface StorageProbe {
  result: Promise<StorageChecks>
  settledAt?: number
}

/** What /ready looks at. */
export interface ReadinessDeps {
  db: Database
  migrations: MigrationFile[]
  lifecycle: Lifecycle
  auth: AuthService
  knowledge: KnowledgeService
  llm: LlmRouter
  rateLimiter: RateLimiter
  /** The shared command connection, when REDIS_URL is set. */
  redis: RedisConnection | undefined
}

/** Answers `/ready`: can this instance serve traffic right now? */
export class ReadinessService {
  readonly #db: Database
  readonly #migrations: MigrationFile[]
  readonly #lifecycle: Lifecycle
  readonly #auth: AuthService
  readonly #knowledge: KnowledgeService
  readonly #llm: LlmRouter
  readonly #rateLimiter: RateLimiter
  readonly #redis: RedisConnection | undefined
  #probe: StorageProbe | undefined

  constructor(deps: ReadinessDeps) {
    this.#db = deps.db
    this.#migrations = deps.migrations
    this.#lifecycle = deps.lifecycle
    this.#auth = deps.auth
    this.#knowledge = deps.knowledge
    this.#llm = deps.llm
    this.#rateLimiter = deps.rateLimiter
    this.#redis = deps.redis
  }

  /**
   * The database part comes from a probe at most READINESS_CACHE_MS old (shared while in
   * flight); everything else — draining, breakers, Redis — is read fresh on every call, so a
   * drain or an opening breaker shows at once.
   */
  async check(): Promise<ReadyReport> {
    const { database, migrations, pendingEmbeddings } = await this.#storage()
    const critical = database.status === 'ok' && migrations.status === 'ok'
    // An open auth breaker or unusable embeddings degrade rather than fail readiness: cached
    // tokens keep working and search falls back to full text.
    const { mode, upstream } = this.#auth.readiness()
    const auth = {
      status: (upstream === 'open' ? 'error' : 'ok') as CheckStatus,
      mode,
      ...(upstream === 'none' ? {} : { breaker: upstream }),
    }
    const embeddings = this.#embeddings(pendingEmbeddings)
    const providers = this.#llm.breakers().map((b) => ({ name: b.name, state: b.state }))
    // Degraded, not failed, while at least one provider can still answer.
    const llm = {
      status: (providers.every((p) => p.state === 'open') ? 'error' : 'ok') as CheckStatus,
      providers,
    }
    const rateLimits = this.#rateLimits()
    // Redis down degrades: each policy fails open or closed, as configured, until it is back.
    const healthy =
      auth.status === 'ok' && embeddings.status === 'ok' && llm.status === 'ok' && rateLimits.status === 'ok'
    const status = !critical || this.#lifecycle.draining ? 'not_ready' : healthy ? 'ready' : 'degraded'
    return {
      status,
      checks: { database, migrations, auth, embeddings, llm, rate_limits: rateLimits },
      shutting_down: this.#lifecycle.draining,
    }
  }

  #storage(): Promise<StorageChecks> {
    const probe = this.#probe
    if (
      probe &&
      (probe.settledAt === undefined || performance.now() - probe.settledAt < READINESS_CACHE_MS)
    ) {
      return probe.result
    }
    const next: StorageProbe = { result: this.#probeStorage() }
    // Never rejects: #database and the migration status turn every failure into a check result.
    void next.result.finally(() => {
      next.settledAt = performance.now()
    })
    this.#probe = next
    return next.result
  }

  async #probeStorage(): Promise<StorageChecks> {
    const database = await this.#database()
    const migrations =
      database.status === 'ok'
        ? await migrationStatus(this.#db, this.#migrations).then(
            (s) => ({ status: (s.pending.length === 0 ? 'ok' : 'error') as CheckStatus, ...s }),
            () => ({ status: 'error' as const, applied: 0, pending: [] }),
          )
        : { status: 'error' as const, applied: 0, pending: [] }
    // Counted with the same probe (so at most once a second); a failed count only leaves it out.
    const pendingEmbeddings =
      database.status === 'ok' ? await this.#knowledge.pendingEmbeddings().catch(() => undefined) : undefined
    return { database, migrations, pendingEmbeddings }
  }

  /**
   * A backlog alone is no failure (docs/decisions.md "Pending embeddings"), but a backlog after
   * the embedder failed at start-up is: too few calls for its breaker to open, every seeded
   * passage waiting, search lexical only. The next successful embedding clears it.
   */
  #embeddings(pending: number | undefined): ReadyReport['checks']['embeddings'] {
    const report = this.#knowledge.readiness()
    const waiting =
      pending !== undefined && pending > 0 && this.#knowledge.embedder.health().failedAtStartup === true
    return {
      ...report,
      ...(waiting
        ? {
            status: 'error' as const,
            problem:
              report.problem ??
              `the embedder failed at start-up: ${pending} chunk(s) wait for a vector (found by full text only until the backfill embeds them)`,
          }
        : {}),
      ...(pending === undefined ? {} : { pending }),
    }
  }

  #rateLimits(): ReadyReport['checks']['rate_limits'] {
    const enabled = Object.keys(this.#rateLimiter.policies).length > 0
    const redis = this.#redis ? (this.#redis.connected ? 'connected' : 'disconnected') : undefined
    const usesRedis = enabled && this.#rateLimiter.store.kind === 'redis'
    return {
      status: usesRedis && redis !== 'connected' ? 'error' : 'ok',
      store: enabled ? this.#rateLimiter.store.kind : 'off',
      ...(redis ? { redis } : {}),
    }
  }

  async #database(): Promise<ReadyReport['checks']['database']> {
    const started = performance.now()
    let timer: Timer | undefined
    try {
      await Promise.race([
        this.#db.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
            PING_TIMEOUT_MS,
          )
        }),
      ])
      return { status: 'ok', kind: this.#db.kind, latency_ms: Math.round(performance.now() - started) }
    } catch (error) {
      // Only a short, generic reason: /ready is public and must not leak connection details.
      const reason =
        error instanceof Error && error.message.startsWith('no answer') ? error.message : 'unreachable'
      return { status: 'error', kind: this.#db.kind, error: reason }
    } finally {
      clearTimeout(timer)
    }
  }
}
