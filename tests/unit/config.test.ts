import { describe, expect, test } from 'bun:test'
import { describeModes, loadConfig } from '@/config'

function problemsOf(env: Record<string, string>) {
  const result = loadConfig(env)
  if (result.ok) throw new Error('expected the configuration to be rejected')
  return result.problems
}

describe('loadConfig', () => {
  test('an empty environment starts: embedded database, local auth, local LLM and embeddings', () => {
    const result = loadConfig({})
    if (!result.ok) throw new Error(result.problems.join('; '))
    const { config } = result
    expect(config.PORT).toBe(3001)
    expect(config.DATA_DIR).toBe('.data')
    expect(config.AUTH_CACHE_TTL_MS).toBe(60_000)
    expect(config.AUTH_CACHE_MAX_ENTRIES).toBe(10_000)
    expect(config.BODY_LIMIT_BYTES).toBe(1_048_576)
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(10_000)
    expect(config.CONVERSATION_TTL_DAYS).toBe(7)
    expect(config.llmChain).toEqual(['local'])
    expect(config.EMBEDDINGS_PROVIDER).toBe('local')
    expect(describeModes(config)).toEqual({
      database: 'embedded (.data)',
      auth: 'local',
      llm: 'local',
      embeddings: 'local',
      redis: 'off',
      rate_limits: 'memory',
      workers: 1,
    })
  })

  test('each bad variable is named, all in one report', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      BODY_LIMIT_BYTES: '-5',
      CORS_ORIGINS: 'https://ok.example,not a url',
      DATABASE_URL: 'mysql://db/x',
      LLM_FALLBACK_PROVIDERS: 'openai,gemini',
      TRUST_PROXY: 'maybe',
    })
    const named = problems.map((p) => p.split(' ')[0])
    for (const variable of [
      'PORT',
      'LOG_LEVEL',
      'BODY_LIMIT_BYTES',
      'CORS_ORIGINS',
      'DATABASE_URL',
      'LLM_FALLBACK_PROVIDERS',
      'TRUST_PROXY',
      // openai in the fallback chain with no key: a cross-variable rule, reported alongside.
      'OPENAI_API_KEY',
    ]) {
      expect(named).toContain(variable)
    }
  })

  test('cross-variable rules: a provider in the chain needs its key', () => {
    expect(problemsOf({ LLM_PROVIDER: 'anthropic' })).toEqual([
      'ANTHROPIC_API_KEY is required when anthropic is in LLM_PROVIDER or LLM_FALLBACK_PROVIDERS',
    ])
    expect(problemsOf({ LANGSMITH_TRACING: 'true' })).toEqual([
      'LANGSMITH_API_KEY is required when LANGSMITH_TRACING is true',
    ])
    expect(problemsOf({ SUPABASE_URL: 'https://x.supabase.co' })[0]).toStartWith('SUPABASE_URL')
  })

  test('secret values never appear in the report', () => {
    const secret = 'short-secret-value'
    const problems = problemsOf({ LOCAL_JWT_SECRET: secret, METRICS_TOKEN: 'tiny', PORT: secret })
    expect(problems.join('\n')).not.toContain(secret)
    expect(problems.join('\n')).not.toContain('tiny')
    expect(problems.some((p) => p.startsWith('LOCAL_JWT_SECRET must be at least 32'))).toBe(true)
  })

  test('empty variables count as unset', () => {
    const result = loadConfig({ PORT: '', OPENAI_API_KEY: '  ', LLM_PROVIDER: '' })
    expect(result.ok && result.config.PORT).toBe(3001)
    expect(result.ok && result.config.llmChain).toEqual(['local'])
  })

  test('a key alone picks the provider; the chain keeps order without repeats', () => {
    const result = loadConfig({
      OPENAI_API_KEY: 'sk-test',
      ANTHROPIC_API_KEY: 'ak-test',
      LLM_FALLBACK_PROVIDERS: 'anthropic, openai ,local',
    })
    if (!result.ok) throw new Error(result.problems.join('; '))
    expect(result.config.LLM_PROVIDER).toBe('openai')
    expect(result.config.llmChain).toEqual(['openai', 'anthropic', 'local'])
    expect(result.config.EMBEDDINGS_PROVIDER).toBe('openai')
  })

  test('prepared statements are off by default on the transaction pooler port only', () => {
    const pooler = loadConfig({ DATABASE_URL: 'postgresql://u:p@db.example:6543/postgres' })
    const direct = loadConfig({ DATABASE_URL: 'postgresql://u:p@db.example:5432/postgres' })
    const forced = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db.example:5432/postgres',
      DATABASE_PREPARE: 'false',
    })
    expect(pooler.ok && pooler.config.DATABASE_PREPARE).toBe(false)
    expect(direct.ok && direct.config.DATABASE_PREPARE).toBe(true)
    expect(forced.ok && forced.config.DATABASE_PREPARE).toBe(false)
    expect(direct.ok && direct.config.databaseMode).toBe('postgres')
  })
})

describe('unsafe combinations (issue 12, 3.10)', () => {
  const SUPABASE = { SUPABASE_URL: 'https://project.supabase.co', SUPABASE_ANON_KEY: 'anon-key' }

  test('NODE_ENV=production with local auth is refused unless ALLOW_LOCAL_AUTH_IN_PRODUCTION=true', () => {
    const problems = problemsOf({ NODE_ENV: 'production' })
    expect(problems).toEqual([expect.stringContaining('NODE_ENV is production but auth is local')])
    expect(problems[0]).toContain('ALLOW_LOCAL_AUTH_IN_PRODUCTION=true')
    expect(loadConfig({ NODE_ENV: 'production', ALLOW_LOCAL_AUTH_IN_PRODUCTION: 'true' }).ok).toBe(true)
    expect(loadConfig({ NODE_ENV: 'production', ...SUPABASE }).ok).toBe(true)
    expect(loadConfig({ NODE_ENV: 'development' }).ok).toBe(true)
  })

  test('SUPABASE_JWT_SECRET without SUPABASE_URL is refused: it would verify Supabase tokens offline', () => {
    const secret = 'a-supabase-project-jwt-secret-of-32+chars'
    const problems = problemsOf({ SUPABASE_JWT_SECRET: secret })
    expect(problems).toEqual([expect.stringContaining('SUPABASE_JWT_SECRET is set without SUPABASE_URL')])
    expect(problems[0]).not.toContain(secret)
    expect(problemsOf({ SUPABASE_JWT_SECRET: secret, LOCAL_JWT_SECRET: secret })).toHaveLength(1)
    expect(loadConfig({ SUPABASE_JWT_SECRET: secret, ...SUPABASE }).ok).toBe(true)
  })

  test('LANGSMITH_REDACT is on unless turned off', () => {
    const on = loadConfig({})
    const off = loadConfig({ LANGSMITH_REDACT: 'false' })
    expect(on.ok && on.config.llm.langsmith.redact).toBe(true)
    expect(off.ok && off.config.llm.langsmith.redact).toBe(false)
    expect(problemsOf({ LANGSMITH_REDACT: 'maybe' })).toEqual(['LANGSMITH_REDACT must be true or false'])
  })
})

describe('the process', () => {
  test('an invalid environment exits 1 with one message naming every bad variable', async () => {
    const child = Bun.spawn(['bun', 'backend/src/index.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: 'x',
        LOG_LEVEL: 'loud',
        SUPABASE_ANON_KEY: 'anon-key-secret',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stderr, stdout] = await Promise.all([
      child.exited,
      new Response(child.stderr).text(),
      new Response(child.stdout).text(),
    ])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('Invalid configuration (2)')
    expect(stderr).toContain('PORT must be a whole number')
    expect(stderr).toContain('LOG_LEVEL must be one of')
    expect(stderr).not.toContain('anon-key-secret')
  })

  test('NODE_ENV=production with local auth stops the real process before it opens anything', async () => {
    const child = Bun.spawn(['bun', 'backend/src/index.ts'], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: '0', DATA_DIR: ':memory:' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    expect(code).toBe(1)
    expect(stderr).toContain('NODE_ENV is production but auth is local')
  })
})
