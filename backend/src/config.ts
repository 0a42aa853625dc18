import ipaddr from 'ipaddr.js'
import { z } from 'zod'

/**
 * One zod schema over the environment. Every variable has a default or is optional, so a bare
 * `bun run start` works (embedded database, local auth, local LLM and embeddings). An invalid
 * value stops start-up with one message naming every bad variable — never its value, because
 * several of them are secrets.
 */

const PROVIDERS = ['local', 'openai', 'anthropic'] as const
export type LlmProviderName = (typeof PROVIDERS)[number]

type Address = ipaddr.IPv4 | ipaddr.IPv6

/**
 * Which peers may tell us the client's address in `X-Forwarded-For` (`TRUST_PROXY`):
 * - `none` (the default): nobody; the client is the socket's peer, whatever headers say;
 * - `peer`: the immediate peer is our proxy (one hop), so the client is the right-most entry;
 * - `ranges`: peers in these ranges are our proxies; walking the header right to left, the
 *   client is the first address outside them (the right-most untrusted hop). Entries to its
 *   left were written by the client itself and prove nothing.
 * Parsed here, with the rest of the environment, so a bad value stops start-up with the others.
 */
export type TrustProxy =
  | { mode: 'none' }
  | { mode: 'peer' }
  | { mode: 'ranges'; ranges: [Address, number][]; names: string[] }

const NAMED_RANGES = ['loopback', 'private', 'linkLocal', 'uniqueLocal'] as const

// ipaddr.js also accepts octal and short IPv4 forms (`010.0.0.0/8` is 8.0.0.0/8): refuse them.
function isStrictCidr(text: string): boolean {
  return text.includes(':') ? ipaddr.IPv6.isValidCIDR(text) : ipaddr.IPv4.isValidCIDRFourPartDecimal(text)
}

/** A plain IPv4 (four decimal parts) or IPv6 address. */
export function isStrictAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text)
}

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

// An empty variable (`FOO=` in a .env file) means "not set", not "set to the empty string".
const unsetIfEmpty = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value

const text = () => z.preprocess(unsetIfEmpty, z.string().trim().optional())
const secret = (minLength = 1) =>
  z.preprocess(unsetIfEmpty, z.string().min(minLength, `must be at least ${minLength} characters`).optional())
const int = (fallback: number, min: number, max: number) =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  )
const flag = (fallback: boolean) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  )
const url = (protocols: string[]) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), {
        message: `must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL`,
      })
      .optional(),
  )
const list = <T extends z.ZodType>(item: T, fallback: string) =>
  z.preprocess(
    (v) =>
      (typeof v === 'string' ? v : fallback)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    z.array(item),
  )

const schema = z
  .object({
    NODE_ENV: z.preprocess(
      unsetIfEmpty,
      z.enum(['development', 'production', 'test']).default('development'),
    ),
    PORT: int(3001, 0, 65535),
    HOST: z.preprocess(unsetIfEmpty, z.string().default('0.0.0.0')),
    DATA_DIR: z.preprocess(unsetIfEmpty, z.string().default('.data')),
    DATABASE_URL: url(['postgres:', 'postgresql:']),
    /** Prepared statements; unset = on, except for Supabase's transaction pooler port 6543. */
    DATABASE_PREPARE: z.preprocess(unsetIfEmpty, flag(true).optional()),
    DATABASE_POOL_MAX: int(10, 1, 200),
    SUPABASE_URL: url(['http:', 'https:']),
    SUPABASE_ANON_KEY: secret(),
    SUPABASE_SERVICE_ROLE_KEY: secret(),
    SUPABASE_JWT_SECRET: secret(32),
    LOCAL_JWT_SECRET: secret(32),
    AUTH_CACHE_TTL_MS: int(60_000, 0, 3_600_000),
    AUTH_CACHE_MAX_ENTRIES: int(10_000, 1, 10_000_000),
    /** Lifetime of the access tokens local accounts get from /auth/v1 (at most 30 days). */
    LOCAL_ACCESS_TOKEN_TTL_SECONDS: int(3_600, 60, 2_592_000),
    LLM_PROVIDER: z.preprocess(
      unsetIfEmpty,
      z.enum(PROVIDERS, { error: 'must be local, openai or anthropic' }).optional(),
    ),
    LLM_FALLBACK_PROVIDERS: list(z.enum(PROVIDERS, { error: 'each must be local, openai or anthropic' }), ''),
    OPENAI_API_KEY: secret(),
    OPENAI_BASE_URL: url(['http:', 'https:']),
    OPENAI_CHAT_MODEL: z.preprocess(unsetIfEmpty, z.string().default('gpt-4o-mini')),
    OPENAI_CHAT_FALLBACK_MODEL: text(),
    OPENAI_EMBED_MODEL: z.preprocess(unsetIfEmpty, z.string().default('text-embedding-3-small')),
    ANTHROPIC_API_KEY: secret(),
    ANTHROPIC_BASE_URL: url(['http:', 'https:']),
    ANTHROPIC_CHAT_MODEL: z.preprocess(unsetIfEmpty, z.string().default('claude-sonnet-4-5')),
    ANTHROPIC_CHAT_FALLBACK_MODEL: text(),
    EMBEDDINGS_PROVIDER: z.preprocess(
      unsetIfEmpty,
      z.enum(['openai', 'local'], { error: 'must be openai or local' }).optional(),
    ),
    LLM_TIMEOUT_MS: int(60_000, 1_000, 600_000),
    LLM_FIRST_TOKEN_TIMEOUT_MS: int(15_000, 500, 300_000),
    LLM_MAX_OUTPUT_TOKENS: int(1_024, 16, 32_000),
    BREAKER_ERROR_THRESHOLD_PERCENT: int(50, 1, 100),
    BREAKER_VOLUME_THRESHOLD: int(5, 1, 10_000),
    BREAKER_RESET_TIMEOUT_MS: int(30_000, 100, 3_600_000),
    LANGSMITH_TRACING: flag(false),
    LANGSMITH_API_KEY: secret(),
    LANGSMITH_ENDPOINT: url(['http:', 'https:']),
    LANGSMITH_PROJECT: z.preprocess(unsetIfEmpty, z.string().default('pilar-backend')),
    /** Traces carry lengths and hashes of chat text, passages and results, not the text itself. */
    LANGSMITH_REDACT: flag(true),
    /** HMAC key of those hashes; unset: random per process (equal texts match within one process). */
    LANGSMITH_REDACT_KEY: secret(16),
    /** Local HS256 auth under NODE_ENV=production is refused unless this says it is meant. */
    ALLOW_LOCAL_AUTH_IN_PRODUCTION: flag(false),
    REDIS_URL: url(['redis:', 'rediss:']),
    CORS_ORIGINS: list(
      z.string().refine((o) => o === '*' || (URL.canParse(o) && new URL(o).origin === o), {
        message: 'each must be an origin such as https://app.example.com (no path), or *',
      }),
      'http://localhost:5173',
    ),
    TRUST_PROXY: z.preprocess(
      (v) => (typeof v === 'string' ? v : undefined),
      z
        .string()
        .optional()
        .transform((v, ctx): TrustProxy => {
          const parsed = parseTrustProxy(v)
          if ('error' in parsed) {
            ctx.addIssue({ code: 'custom', message: parsed.error })
            return z.NEVER
          }
          return parsed
        }),
    ),
    REDIS_TIMEOUT_MS: int(250, 10, 10_000),
    /**
     * Rate limits are N requests per RATE_LIMIT_WINDOW_SECONDS; 0 turns one policy off. At most
     * a million: the interval (window / N) must stay far above the float resolution of
     * milliseconds since 1970, or the limiter would silently stop counting.
     */
    RATE_LIMIT_ENABLED: flag(true),
    RATE_LIMIT_STORE: z.preprocess(
      unsetIfEmpty,
      z.enum(['memory', 'redis'], { error: 'must be memory or redis' }).optional(),
    ),
    RATE_LIMIT_FAIL_CLOSED: flag(false),
    RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 86_400),
    /** Per user, every authenticated `/api` request. */
    RATE_LIMIT_API: int(600, 0, 1_000_000),
    /** Per client address, anonymous `/api` requests only (and `/ready`, in its own namespace). */
    RATE_LIMIT_ANON: int(300, 0, 1_000_000),
    RATE_LIMIT_AI: int(20, 0, 1_000_000),
    RATE_LIMIT_AUTH_FAILURES: int(30, 0, 1_000_000),
    RATE_LIMIT_INGEST: int(10, 0, 1_000_000),
    /** Per user, activity-event batches (each up to 100 events). */
    RATE_LIMIT_EVENTS: int(120, 0, 1_000_000),
    /** Password sign-ins at /auth/v1/token per e-mail address, and per client address. */
    RATE_LIMIT_SIGNIN_EMAIL: int(10, 0, 1_000_000),
    RATE_LIMIT_SIGNIN_ADDRESS: int(60, 0, 1_000_000),
    /** Sign-ups at /auth/v1/signup per client address. */
    RATE_LIMIT_SIGNUP_ADDRESS: int(20, 0, 1_000_000),
    RATE_LIMIT_MEMORY_MAX_KEYS: int(100_000, 100, 100_000_000),
    /** Processes sharing the port (reusePort); more than one needs DATABASE_URL. */
    WORKERS: int(1, 1, 64),
    METRICS_TOKEN: secret(16),
    BODY_LIMIT_BYTES: int(1_048_576, 1_024, 104_857_600),
    SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
    LOG_LEVEL: z.preprocess(
      unsetIfEmpty,
      z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          error: 'must be one of fatal, error, warn, info, debug, trace, silent',
        })
        .default('info'),
    ),
    CONVERSATION_TTL_DAYS: int(7, 1, 365),
    /** Members a team may have; joins past it are refused (409), exactly, under concurrency. */
    TEAM_MAX_MEMBERS: int(200, 1, 100_000),
    /** Completed assessments a closed round needs before its aggregate is shown (never below 2). */
    TEAM_MIN_RESULTS: int(3, 2, 1_000),
    /** How often a quiet SSE stream gets a `: ping` comment. */
    STREAM_HEARTBEAT_MS: int(15_000, 10, 120_000),
    /** Seconds a keep-alive connection may sit without bytes before Bun closes it (Bun's cap: 255). */
    HTTP_IDLE_TIMEOUT_SECONDS: int(120, 1, 255),
  })
  .transform((env) => {
    // Defaults that depend on other variables: a key alone is enough to choose a provider.
    const llmProvider: LlmProviderName =
      env.LLM_PROVIDER ?? (env.OPENAI_API_KEY ? 'openai' : env.ANTHROPIC_API_KEY ? 'anthropic' : 'local')
    const llmChain = [...new Set<LlmProviderName>([llmProvider, ...env.LLM_FALLBACK_PROVIDERS])]
    const databasePrepare =
      env.DATABASE_PREPARE ?? !(env.DATABASE_URL && new URL(env.DATABASE_URL).port === '6543')
    const embeddingsProvider = env.EMBEDDINGS_PROVIDER ?? (env.OPENAI_API_KEY ? 'openai' : 'local')
    const rateLimitStore = env.RATE_LIMIT_STORE ?? (env.REDIS_URL ? ('redis' as const) : ('memory' as const))
    // One breaker policy for every upstream (auth server, each LLM provider, embeddings).
    const breaker = {
      errorThresholdPercent: env.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: env.BREAKER_VOLUME_THRESHOLD,
      resetTimeoutMs: env.BREAKER_RESET_TIMEOUT_MS,
    }
    const openai = {
      apiKey: env.OPENAI_API_KEY,
      baseURL: env.OPENAI_BASE_URL,
      chatModel: env.OPENAI_CHAT_MODEL,
      chatFallbackModel: env.OPENAI_CHAT_FALLBACK_MODEL,
      embedModel: env.OPENAI_EMBED_MODEL,
    }
    return {
      ...env,
      LLM_PROVIDER: llmProvider,
      EMBEDDINGS_PROVIDER: embeddingsProvider,
      DATABASE_PREPARE: databasePrepare,
      /** Providers in the order the failover router tries them, without repeats. */
      llmChain,
      rateLimitStore,
      databaseMode: env.DATABASE_URL ? ('postgres' as const) : ('embedded' as const),
      authMode: env.SUPABASE_URL ? ('supabase' as const) : ('local' as const),
      // Grouped slices: each part of the system is handed its own, never the whole config.
      breaker,
      database: {
        url: env.DATABASE_URL,
        prepare: databasePrepare,
        maxConnections: env.DATABASE_POOL_MAX,
        dataDir: env.DATA_DIR,
      },
      auth: {
        supabaseUrl: env.SUPABASE_URL,
        supabaseApiKey: env.SUPABASE_ANON_KEY ?? env.SUPABASE_SERVICE_ROLE_KEY,
        localJwtSecret: env.LOCAL_JWT_SECRET,
        dataDir: env.DATA_DIR,
        cacheTtlMs: env.AUTH_CACHE_TTL_MS,
        cacheMaxEntries: env.AUTH_CACHE_MAX_ENTRIES,
        accessTokenTtlSeconds: env.LOCAL_ACCESS_TOKEN_TTL_SECONDS,
        breaker,
      },
      llm: {
        chain: llmChain,
        timeoutMs: env.LLM_TIMEOUT_MS,
        firstTokenTimeoutMs: env.LLM_FIRST_TOKEN_TIMEOUT_MS,
        maxOutputTokens: env.LLM_MAX_OUTPUT_TOKENS,
        openai,
        anthropic: {
          apiKey: env.ANTHROPIC_API_KEY,
          baseURL: env.ANTHROPIC_BASE_URL,
          chatModel: env.ANTHROPIC_CHAT_MODEL,
          chatFallbackModel: env.ANTHROPIC_CHAT_FALLBACK_MODEL,
        },
        langsmith: {
          enabled: env.LANGSMITH_TRACING,
          apiKey: env.LANGSMITH_API_KEY,
          endpoint: env.LANGSMITH_ENDPOINT,
          project: env.LANGSMITH_PROJECT,
          redact: env.LANGSMITH_REDACT,
          redactKey: env.LANGSMITH_REDACT_KEY,
        },
        breaker,
      },
      embeddings: { provider: embeddingsProvider, openai, breaker },
      rateLimit: {
        enabled: env.RATE_LIMIT_ENABLED,
        store: rateLimitStore,
        failClosed: env.RATE_LIMIT_FAIL_CLOSED,
        windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
        limits: {
          api: env.RATE_LIMIT_API,
          anon: env.RATE_LIMIT_ANON,
          ready: env.RATE_LIMIT_ANON,
          ai: env.RATE_LIMIT_AI,
          auth_failures: env.RATE_LIMIT_AUTH_FAILURES,
          ingest: env.RATE_LIMIT_INGEST,
          events: env.RATE_LIMIT_EVENTS,
          signin_email: env.RATE_LIMIT_SIGNIN_EMAIL,
          signin_address: env.RATE_LIMIT_SIGNIN_ADDRESS,
          signup_address: env.RATE_LIMIT_SIGNUP_ADDRESS,
        },
        memoryMaxKeys: env.RATE_LIMIT_MEMORY_MAX_KEYS,
      },
      redis: { url: env.REDIS_URL, commandTimeoutMs: env.REDIS_TIMEOUT_MS },
      teams: { maxMembers: env.TEAM_MAX_MEMBERS, minResults: env.TEAM_MIN_RESULTS },
      http: {
        corsOrigins: env.CORS_ORIGINS,
        trustProxy: env.TRUST_PROXY,
        bodyLimitBytes: env.BODY_LIMIT_BYTES,
        metricsToken: env.METRICS_TOKEN,
        streamHeartbeatMs: env.STREAM_HEARTBEAT_MS,
        idleTimeoutSeconds: env.HTTP_IDLE_TIMEOUT_SECONDS,
      },
    }
  })

export type Config = z.output<typeof schema>

/**
 * Rules that span variables. They read the raw environment so they are reported together with
 * per-variable problems, not only once every variable parses.
 */
function crossChecks(raw: Record<string, string | undefined>): string[] {
  const env = (name: string) => {
    const value = raw[name]?.trim()
    return value ? value : undefined
  }
  const problems: string[] = []
  if (env('SUPABASE_URL') && !env('SUPABASE_ANON_KEY') && !env('SUPABASE_SERVICE_ROLE_KEY')) {
    problems.push('SUPABASE_URL is set but neither SUPABASE_ANON_KEY nor SUPABASE_SERVICE_ROLE_KEY is')
  }
  const chain = [
    env('LLM_PROVIDER'),
    ...(env('LLM_FALLBACK_PROVIDERS') ?? '').split(',').map((p) => p.trim()),
  ]
  // An OpenAI-compatible server (Ollama, vLLM) may need no key, but then it needs a base URL.
  const openaiReachable = env('OPENAI_API_KEY') || env('OPENAI_BASE_URL')
  if (chain.includes('openai') && !openaiReachable) {
    problems.push('OPENAI_API_KEY is required when openai is in LLM_PROVIDER or LLM_FALLBACK_PROVIDERS')
  }
  if (chain.includes('anthropic') && !env('ANTHROPIC_API_KEY')) {
    problems.push('ANTHROPIC_API_KEY is required when anthropic is in LLM_PROVIDER or LLM_FALLBACK_PROVIDERS')
  }
  if (env('EMBEDDINGS_PROVIDER') === 'openai' && !openaiReachable) {
    problems.push('OPENAI_API_KEY is required when EMBEDDINGS_PROVIDER is openai')
  }
  if (['true', '1', 'yes'].includes(env('LANGSMITH_TRACING') ?? '') && !env('LANGSMITH_API_KEY')) {
    problems.push('LANGSMITH_API_KEY is required when LANGSMITH_TRACING is true')
  }
  if (env('RATE_LIMIT_STORE') === 'redis' && !env('REDIS_URL')) {
    problems.push('REDIS_URL is required when RATE_LIMIT_STORE is redis')
  }
  // Without SUPABASE_URL auth is local: a Supabase project's JWT secret would let that project's
  // tokens verify offline here, past the logouts and bans that only Supabase Auth knows about.
  if (env('SUPABASE_JWT_SECRET') && !env('SUPABASE_URL')) {
    problems.push(
      'SUPABASE_JWT_SECRET is set without SUPABASE_URL: Supabase tokens would be checked offline, ignoring logouts and bans. Set SUPABASE_URL and SUPABASE_ANON_KEY to verify them with Supabase Auth, or LOCAL_JWT_SECRET for local tokens',
    )
  }
  const truthy = (name: string) => ['true', '1', 'yes'].includes(env(name) ?? '')
  if (env('NODE_ENV') === 'production' && !env('SUPABASE_URL') && !truthy('ALLOW_LOCAL_AUTH_IN_PRODUCTION')) {
    problems.push(
      'NODE_ENV is production but auth is local (SUPABASE_URL is unset): set SUPABASE_URL and SUPABASE_ANON_KEY, or ALLOW_LOCAL_AUTH_IN_PRODUCTION=true if local accounts are meant',
    )
  }
  const workers = Number(env('WORKERS') ?? '1')
  if (workers > 1 && !env('DATABASE_URL')) {
    problems.push(
      'WORKERS > 1 needs DATABASE_URL: the embedded database allows one writer process only, so several workers must share a Postgres server (Supabase or your own)',
    )
  }
  return problems
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] }

/** Parses the environment. Problems name the variable and the rule, never the value. */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = schema.safeParse(env)
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`)),
    ...crossChecks(env),
  ]
  if (parsed.success && problems.length === 0) return { ok: true, config: parsed.data }
  return { ok: false, problems: [...new Set(problems)] }
}

/** The one-line summary logged at start-up: modes only, no secrets. */
export function describeModes(config: Config) {
  return {
    database: config.databaseMode === 'embedded' ? `embedded (${config.DATA_DIR})` : 'postgres',
    auth: config.authMode,
    llm: config.llmChain.join(' > '),
    embeddings: config.EMBEDDINGS_PROVIDER,
    redis: config.REDIS_URL ? 'on' : 'off',
    rate_limits: config.RATE_LIMIT_ENABLED ? config.rateLimitStore : 'off',
    workers: config.WORKERS,
  }
}
