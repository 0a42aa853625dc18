import { type LocalSecretOptions, resolveLocalSecret } from '@/lib/auth/local-secret'
import { LocalVerifier } from '@/lib/auth/local-verifier'
import type { TokenVerifier } from '@/lib/auth/types'
import type { BreakerThresholds } from '@/lib/breaker'
import type { Database } from '@/lib/db/database'
import type { Logger } from '@/lib/log'

/** How long one call to Supabase Auth may take before it counts as a failure. */
export const AUTH_UPSTREAM_TIMEOUT_MS = 5_000

export interface VerifierOptions extends LocalSecretOptions {
  supabaseUrl: string | undefined
  /** SUPABASE_ANON_KEY, else SUPABASE_SERVICE_ROLE_KEY. */
  supabaseApiKey: string | undefined
  breaker: BreakerThresholds
}

/**
 * Supabase Auth when SUPABASE_URL and a key are set, else local HS256 tokens. supabase-js is
 * imported only in Supabase mode (it is a measurable part of a local start-up).
 */
export async function createVerifier(
  options: VerifierOptions,
  db: Database,
  logger: Logger,
): Promise<TokenVerifier> {
  if (options.supabaseUrl && options.supabaseApiKey) {
    const { SupabaseVerifier } = await import('@/lib/auth/supabase-verifier')
    return new SupabaseVerifier(
      {
        url: options.supabaseUrl,
        apiKey: options.supabaseApiKey,
        timeoutMs: AUTH_UPSTREAM_TIMEOUT_MS,
        breaker: options.breaker,
      },
      logger,
    )
  }
  const secret = resolveLocalSecret(options)
  logger.info({ source: secret.source, path: secret.path }, 'local auth: HS256 secret')
  return new LocalVerifier(secret.secret, db)
}
