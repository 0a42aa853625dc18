import { join } from 'node:path'
import type { Config } from '@/config'
import { AUTH_UPSTREAM_TIMEOUT_MS, createVerifier } from '@/lib/auth/create-verifier'
import { LocalVerifier } from '@/lib/auth/local-verifier'
import { RedisRevocationBus } from '@/lib/auth/revocation-bus'
import type { TokenVerifier } from '@/lib/auth/types'
import type { BreakerStats } from '@/lib/breaker'
import { ForeignAuthUsersError, ownsAuthUsers } from '@/lib/db/bootstrap'
import type { Database } from '@/lib/db/database'
import { instrumentDatabase } from '@/lib/db/instrument'
import { type MigrationFile, migrate, readMigrations } from '@/lib/db/migrations'
import { describeOpening, openDatabase } from '@/lib/db/open'
import { analyzeChanged } from '@/lib/db/planner-statistics'
import { Lifecycle } from '@/lib/lifecycle'
import { createLlmRouter } from '@/lib/llm/create-router'
import type { LlmRouter } from '@/lib/llm/router'
import { CompositeTracer } from '@/lib/llm/tracing'
import type { Logger } from '@/lib/log'
import { Metrics } from '@/lib/metrics/metrics'
import { createEmbedder } from '@/lib/rag/create-embedder'
import type { Embedder } from '@/lib/rag/embedder'
import { ObservedEmbedder } from '@/lib/rag/observed-embedder'
import { RateLimiter } from '@/lib/ratelimit/limiter'
import { MemoryRateLimitStore } from '@/lib/ratelimit/memory-store'
import { policiesFrom } from '@/lib/ratelimit/policies'
import { RedisRateLimitStore } from '@/lib/ratelimit/redis-store'
import { RedisConnection } from '@/lib/redis/connection'
import { LocalAccountService } from '@/services/accounts/local-accounts'
import { LocalAccountStore } from '@/services/accounts/local-accounts-store'
import { AnalyticsService } from '@/services/admin/analytics'
import { AdminUserService } from '@/services/admin/users'
import { AnalyzeService } from '@/services/ai/analyze'
import { ChatService } from '@/services/ai/chat'
import { CoachingService } from '@/services/ai/coaching'
import { GuidanceService } from '@/services/ai/guidance'
import { QuizService } from '@/services/ai/quiz'
import { TeamCoachingService } from '@/services/ai/team-coaching'
import { QuestionBank } from '@/services/assessments/question-bank'
import { AssessmentService } from '@/services/assessments/service'
import { AssessmentStore } from '@/services/assessments/store'
import { AuthService } from '@/services/auth'
import { KnowledgeContentIndexer } from '@/services/content/indexer'
import { ContentService } from '@/services/content/service'
import { ContentStore } from '@/services/content/store'
import { ConversationService } from '@/services/conversations/service'
import { ConversationStore } from '@/services/conversations/store'
import { Housekeeping } from '@/services/housekeeping'
import { KnowledgeService } from '@/services/knowledge/service'
import { KnowledgeStore } from '@/services/knowledge/store'
import { EventService } from '@/services/progress/events'
import { EventStore } from '@/services/progress/events-store'
import { GamificationService, LevelCatalog } from '@/services/progress/gamification'
import { LeaderboardService } from '@/services/progress/leaderboard'
import { PointsLedger } from '@/services/progress/ledger'
import { LedgerStore } from '@/services/progress/ledger-store'
import { ReadinessService } from '@/services/readiness'
import { InvitationService } from '@/services/teams/invitations'
import { RoundService } from '@/services/teams/rounds'
import { RoundStore } from '@/services/teams/rounds-store'
import { TeamService } from '@/services/teams/service'
import { TeamStore } from '@/services/teams/store'
import { UsageRecorder } from '@/services/usage/recorder'
import { UsageStore } from '@/services/usage/store'
import type { SupabaseAuthAdmin } from '@/services/users/auth-admin'
import { UserService } from '@/services/users/service'
import { UserStore } from '@/services/users/store'
import packageJson from '../../package.json' with { type: 'json' }

/** Where the SQL migrations live: the same files the Supabase CLI applies. */
export const MIGRATIONS_DIR = join(import.meta.dir, '../../supabase/migrations')

/** Everything the app is made of, built once at boot (tests build it over a shared database). */
export interface Container {
  config: Config
  logger: Logger
  version: string
  db: Database
  migrations: MigrationFile[]
  lifecycle: Lifecycle
  readiness: ReadinessService
  auth: AuthService
  /** Local accounts behind /auth/v1: only in local auth mode over our own auth.users. */
  localAccounts: LocalAccountService | undefined
  assessments: AssessmentService
  knowledge: KnowledgeService
  /** LLM providers behind breakers with failover (the AI routes are not built yet). */
  llm: LlmRouter
  metrics: Metrics
  rateLimiter: RateLimiter
  /** The shared command connection when `REDIS_URL` is set. */
  redis: RedisConnection | undefined
  conversations: ConversationService
  chat: ChatService
  coaching: CoachingService
  teamCoaching: TeamCoachingService
  guidance: GuidanceService
  quiz: QuizService
  analyze: AnalyzeService
  teams: TeamService
  invitations: InvitationService
  rounds: RoundService
  /** The hourly job (conversations, invitations, due rounds); index.ts starts it. */
  housekeeping: Housekeeping
  /** The caller's own account: profile, progress, export, deletion. */
  users: UserService
  adminUsers: AdminUserService
  /** The platform report (GET /api/v1/admin/analytics). */
  analytics: AnalyticsService
  /**
   * Stores every call of the router built here in llm_usage (not of a router passed in as an
   * override: that one traces as its builder chose).
   */
  usage: UsageRecorder
  /** Articles, pages and resources (admin writes, public reads), linked to the knowledge base. */
  content: ContentService
  /** Activity events the SPA reports (POST /api/v1/events). */
  events: EventService
  /** The points ledger: awards in their causes' transactions, daily activity of writes. */
  ledger: PointsLedger
  /** GET /gamification/me and /badges. */
  gamification: GamificationService
  leaderboard: LeaderboardService
  /** Releases everything `buildContainer` opened (the database last). */
  close(): Promise<void>
}

export interface ContainerOverrides {
  /** An already-open, migrated database (tests share one PGlite instead of creating their own). */
  db?: Database
  /** A verifier other than the configured one. */
  verifier?: TokenVerifier
  /** An embedder other than the configured one. */
  embedder?: Embedder
  /** A router other than the configured one. */
  llm?: LlmRouter
  /** Skip seeding the knowledge base (tests that share an already seeded database). */
  skipKnowledgeInit?: boolean
  /**
   * The server's clock for what is dated by the server (events' time bounds, the daily-activity
   * award and streaks): tests move it across UTC days. Defaults to the wall clock.
   */
  clock?: () => Date
}

/** Builds every service once at boot: opens the database and applies pending migrations. */
export async function buildContainer(
  config: Config,
  logger: Logger,
  overrides: ContainerOverrides = {},
): Promise<Container> {
  const migrations = readMigrations(MIGRATIONS_DIR)
  const ownsDb = !overrides.db
  // A first start spends seconds in each step: say what it is doing before, not only after.
  if (ownsDb) logger.info(describeOpening(config.database))
  const rawDb = overrides.db ?? (await openDatabase(config.database))
  let applied: string[] = []
  if (ownsDb) {
    try {
      applied = await migrate(rawDb, migrations, {
        onPending: (files) => {
          if (files.length > 0)
            logger.info(`migrating: applying ${files.length} of ${migrations.length} migrations`)
        },
      })
      logger.info({ applied: applied.length, total: migrations.length, files: applied }, 'migrations')
    } catch (error) {
      await rawDb.close()
      throw error
    }
  }
  // Read at scrape time, so the sources can be built after the registry.
  const metrics: Metrics = new Metrics({
    authCache: () => auth.counters(),
    breakers: () => breakerStats(),
  })
  const db = instrumentDatabase(rawDb, (statement, ok, seconds) =>
    metrics.observeDbQuery(statement, ok, seconds),
  )
  const lifecycle = new Lifecycle()
  const clock = overrides.clock ?? (() => new Date())
  // Everything that can fail at start-up runs before Redis connections exist, or closes them.
  const verifier = overrides.verifier ?? (await createVerifier(config.auth, db, logger))
  const usersAreOurs = await ownsAuthUsers(db)
  // Local users live in our own auth.users; on Supabase's they would break every foreign key.
  if (verifier.mode === 'local' && !usersAreOurs) {
    if (ownsDb) await rawDb.close()
    throw new ForeignAuthUsersError()
  }
  // Local accounts' tables, next to our own auth.users (a script, not a migration: they must
  // never be created in Supabase's auth schema), also on databases bootstrapped before them.
  const accountStore =
    verifier instanceof LocalVerifier && usersAreOurs ? new LocalAccountStore(db) : undefined
  if (accountStore) {
    try {
      await accountStore.ensureSchema()
    } catch (error) {
      if (ownsDb) await rawDb.close()
      throw error
    }
  }
  const questionBank = await QuestionBank.load(db)
  // Usage records ride along with the metrics tracer (and LangSmith, when on), off the request
  // path; its flush timer is stopped wherever start-up fails from here on.
  const usage = new UsageRecorder(new UsageStore(db), logger)
  let embedder: ObservedEmbedder
  let llm: LlmRouter
  let SupabaseAdmin: typeof SupabaseAuthAdmin | undefined
  // Built before Redis connects: the SDKs they need load here (import(), only when configured),
  // and a failure must not leave connections open.
  try {
    // Observed, so /ready can tell a start-up with the embedder down (too soon for its breaker).
    embedder = new ObservedEmbedder(overrides.embedder ?? (await createEmbedder(config.embeddings, logger)))
    llm =
      overrides.llm ??
      (await createLlmRouter(config.llm, logger, new CompositeTracer([metrics.llmRecorder(), usage], logger)))
    SupabaseAdmin =
      verifier.mode === 'supabase'
        ? (await import('@/services/users/auth-admin')).SupabaseAuthAdmin
        : undefined
  } catch (error) {
    usage.stop()
    if (ownsDb) await rawDb.close()
    throw error
  }
  const { url: redisUrl, commandTimeoutMs } = config.redis
  const openRedis = (url: string, name: string) =>
    new RedisConnection(url, name, logger, { commandTimeoutMs })
  const redis = redisUrl ? openRedis(redisUrl, 'commands') : undefined
  const redisListener = redisUrl ? openRedis(redisUrl, 'revocations') : undefined
  // Start-up does not wait for Redis to come up: limits fail open meanwhile, and it reconnects.
  await Promise.all([redis?.start(), redisListener?.start()])
  const rateLimiter = new RateLimiter(
    config.rateLimit.store === 'redis' && redis
      ? new RedisRateLimitStore(redis)
      : new MemoryRateLimitStore(config.rateLimit.memoryMaxKeys),
    policiesFrom(config.rateLimit),
    { logger, recorder: metrics.rateLimitRecorder() },
  )
  const auth = new AuthService(verifier, db, logger, {
    ttlMs: config.auth.cacheTtlMs,
    maxEntries: config.auth.cacheMaxEntries,
    ownsAuthUsers: usersAreOurs,
    upstreamLatency: metrics.authUpstreamDuration,
    bus: redis && redisListener ? new RedisRevocationBus(redis, redisListener, logger) : undefined,
  })
  const localAccounts =
    accountStore && verifier instanceof LocalVerifier
      ? new LocalAccountService(accountStore, verifier, auth, logger, {
          accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
        })
      : undefined
  const ledgerStore = new LedgerStore(db)
  const ledger = new PointsLedger(ledgerStore, clock, logger)
  const levels = new LevelCatalog(ledgerStore)
  // Completing an assessment awards its points in the completing transaction.
  const assessments = new AssessmentService(new AssessmentStore(db), questionBank, ledger)
  const knowledge = new KnowledgeService(new KnowledgeStore(db), embedder, logger)
  if (!overrides.skipKnowledgeInit) {
    if (applied.length > 0) logger.info('seeding the knowledge base: framework passages and their embeddings')
    try {
      await knowledge.init()
    } catch (error) {
      usage.stop()
      redisListener?.close()
      redis?.close()
      if (ownsDb) await rawDb.close()
      throw error
    }
  }
  embedder.started()
  const breakerStats = (): BreakerStats[] => [
    ...(auth.verifier.breakerStats ? [auth.verifier.breakerStats()] : []),
    ...(knowledge.embedder.breakerStats ? [knowledge.embedder.breakerStats()] : []),
    ...llm.breakers(),
  ]
  const conversationStore = new ConversationStore(db)
  const conversations = new ConversationService(conversationStore, logger)
  const chat = new ChatService(conversationStore, knowledge, llm, {
    maxOutputTokens: config.LLM_MAX_OUTPUT_TOKENS,
    ttlDays: config.CONVERSATION_TTL_DAYS,
  })
  const coaching = new CoachingService(assessments, knowledge, llm, config.LLM_MAX_OUTPUT_TOKENS)
  const guidance = new GuidanceService(knowledge, llm, config.LLM_MAX_OUTPUT_TOKENS)
  const quiz = new QuizService(knowledge, llm, config.LLM_MAX_OUTPUT_TOKENS)
  const analyze = new AnalyzeService(knowledge, knowledge.embedder)
  const teamStore = new TeamStore(db)
  // The SQL functions read the cap and the minimum from the database, never from a caller.
  await teamStore.saveSettings(config.teams.maxMembers, config.teams.minResults)
  const teams = new TeamService(teamStore)
  const invitations = new InvitationService(teamStore, teams)
  const rounds = new RoundService(new RoundStore(db), teams, assessments)
  const teamCoaching = new TeamCoachingService(rounds, knowledge, llm, config.LLM_MAX_OUTPUT_TOKENS)
  const housekeeping = new Housekeeping(
    [
      { name: 'conversations', run: async () => ({ deleted: (await conversations.cleanup()).deleted }) },
      { name: 'teams', run: () => teamStore.housekeeping() },
      // Chunks stored while the embedder was down (ingest, published content) get their vectors.
      { name: 'embeddings', run: async () => ({ embedded: await knowledge.backfill() }) },
      // Published content the knowledge base lacks (seed pages, a failed indexing).
      { name: 'content index', run: () => content.indexMissing() },
      // PGlite runs no autovacuum, so nothing else keeps the planner's statistics (a server
      // database has its own autovacuum).
      ...(db.kind === 'embedded'
        ? [
            {
              name: 'planner statistics',
              run: async () => ({ analyzed: await analyzeChanged(db) }),
            },
          ]
        : []),
      ...(accountStore
        ? [{ name: 'local sessions', run: async () => ({ deleted: await accountStore.cleanup() }) }]
        : []),
    ],
    logger,
  )
  // In Supabase mode deletion ends the auth user too (service-role key) or at least every session.
  const authAdmin =
    SupabaseAdmin && config.SUPABASE_URL
      ? new SupabaseAdmin({
          url: config.SUPABASE_URL,
          serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
          anonKey: config.SUPABASE_ANON_KEY,
          timeoutMs: AUTH_UPSTREAM_TIMEOUT_MS,
        })
      : undefined
  const users = new UserService(new UserStore(db), auth, { ownsAuthUsers: usersAreOurs, authAdmin, logger })
  const content = new ContentService(
    new ContentStore(db),
    new KnowledgeContentIndexer(knowledge, logger),
    logger,
  ) // content indexer: wired by services/content/indexer.ts
  // A batch that stored something notes the day's activity in its own transaction.
  const events = new EventService(new EventStore(db), ledger, clock)
  return {
    config,
    logger,
    version: packageJson.version,
    db,
    migrations,
    lifecycle,
    readiness: new ReadinessService({ db, migrations, lifecycle, auth, knowledge, llm, rateLimiter, redis }),
    auth,
    localAccounts,
    assessments,
    knowledge,
    llm,
    metrics,
    rateLimiter,
    redis,
    conversations,
    chat,
    coaching,
    teamCoaching,
    guidance,
    quiz,
    analyze,
    teams,
    invitations,
    rounds,
    housekeeping,
    users,
    adminUsers: new AdminUserService(db, (userId) => auth.evictUser(userId)),
    analytics: new AnalyticsService(db, clock),
    usage,
    content,
    events,
    ledger,
    gamification: new GamificationService(ledgerStore, levels, clock),
    leaderboard: new LeaderboardService(ledgerStore, levels),
    async close() {
      housekeeping.stop()
      // Traces are sent in the background; give the pending ones a moment, never longer.
      await llm.tracer.flush(2_000)
      // The usage batches go before the database closes (a no-op when the tracer above held them).
      await usage.flush(2_000)
      usage.stop()
      redisListener?.close()
      redis?.close()
      rateLimiter.store.close()
      if (ownsDb) await db.close()
    },
  }
}
