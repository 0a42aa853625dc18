import { join } from 'node:path'
import type { Config } from '@/config'
import { createVerifier } from '@/lib/auth/create-verifier'
import type { TokenVerifier } from '@/lib/auth/types'
import type { BreakerStats } from '@/lib/breaker'
import { ownsAuthUsers } from '@/lib/db/bootstrap'
import type { Database } from '@/lib/db/database'
import { type MigrationFile, migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'
import { Lifecycle } from '@/lib/lifecycle'
import { createLlmRouter } from '@/lib/llm/create-router'
import type { LlmRouter } from '@/lib/llm/router'
import type { Logger } from '@/lib/log'
import { Metrics } from '@/lib/metrics/metrics'
import { createEmbedder } from '@/lib/rag/create-embedder'
import type { Embedder } from '@/lib/rag/embedder'
import { AnalyzeService } from '@/services/ai/analyze'
import { ChatService } from '@/services/ai/chat'
import { CoachingService } from '@/services/ai/coaching'
import { GuidanceService } from '@/services/ai/guidance'
import { QuizService } from '@/services/ai/quiz'
import { QuestionBank } from '@/services/assessments/question-bank'
import { AssessmentService } from '@/services/assessments/service'
import { AssessmentStore } from '@/services/assessments/store'
import { AuthService } from '@/services/auth'
import { ConversationService } from '@/services/conversations/service'
import { ConversationStore } from '@/services/conversations/store'
import { KnowledgeService } from '@/services/knowledge/service'
import { KnowledgeStore } from '@/services/knowledge/store'
import { ReadinessService } from '@/services/readiness'
import packageJson from '../../package.json' with { type: 'json' }

/** Where the SQL migrations live: the same files the Supabase CLI applies. */
export const MIGRATIONS_DIR = join(import.meta.dir, '../../supabase/migrations')

export interface Services {
  config: Config
  logger: Logger
  version: string
  db: Database
  migrations: MigrationFile[]
  lifecycle: Lifecycle
  readiness: ReadinessService
  auth: AuthService
  assessments: AssessmentService
  knowledge: KnowledgeService
  /** LLM providers behind breakers with failover (the AI routes are not built yet). */
  llm: LlmRouter
  metrics: Metrics
  conversations: ConversationService
  chat: ChatService
  coaching: CoachingService
  guidance: GuidanceService
  quiz: QuizService
  analyze: AnalyzeService
  /** Releases everything `buildServices` opened (the database last). */
  close(): Promise<void>
}

export interface ServiceOverrides {
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
}

/** Builds every service once at boot: opens the database and applies pending migrations. */
export async function buildServices(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const migrations = readMigrations(MIGRATIONS_DIR)
  const ownsDb = !overrides.db
  const db = overrides.db ?? (await openDatabase(config))
  if (ownsDb) {
    try {
      const applied = await migrate(db, migrations)
      logger.info({ applied: applied.length, total: migrations.length, files: applied }, 'migrations')
    } catch (error) {
      await db.close()
      throw error
    }
  }
  const lifecycle = new Lifecycle()
  const auth = new AuthService(overrides.verifier ?? createVerifier(config, db, logger), db, logger, {
    ttlMs: config.AUTH_CACHE_TTL_MS,
    maxEntries: config.AUTH_CACHE_MAX_ENTRIES,
    ownsAuthUsers: await ownsAuthUsers(db),
  })
  const assessments = new AssessmentService(new AssessmentStore(db), await QuestionBank.load(db))
  const knowledge = new KnowledgeService(
    new KnowledgeStore(db),
    overrides.embedder ?? createEmbedder(config, logger),
    logger,
  )
  if (!overrides.skipKnowledgeInit) await knowledge.init()
  // Read at scrape time, so the sources can be built after the registry.
  const metrics: Metrics = new Metrics({
    authCache: () => auth.stats(),
    breakers: () => breakerStats(),
  })
  const llm: LlmRouter = overrides.llm ?? createLlmRouter(config, logger, metrics.llmRecorder())
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
  return {
    config,
    logger,
    version: packageJson.version,
    db,
    migrations,
    lifecycle,
    readiness: new ReadinessService(db, migrations, lifecycle, auth, knowledge, llm),
    auth,
    assessments,
    knowledge,
    llm,
    metrics,
    conversations,
    chat,
    coaching,
    guidance,
    quiz,
    analyze,
    async close() {
      conversations.stop()
      // Traces are sent in the background; give the pending ones a moment, never longer.
      await llm.tracer.flush(2_000)
      if (ownsDb) await db.close()
    },
  }
}
