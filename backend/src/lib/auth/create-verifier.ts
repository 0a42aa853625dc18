import type { Config } from '@/config'
import { resolveLocalSecret } from '@/lib/auth/local-secret'
import { LocalVerifier } from '@/lib/auth/local-verifier'
import { SupabaseVerifier } from '@/lib/auth/supabase-verifier'
import type { TokenVerifier } from '@/lib/auth/types'
import type { Database } from '@/lib/db/database'
import type { Logger } from '@/lib/log'

/** How long one call to Supabase Auth may take before it counts as a failure. */
export const AUTH_UPSTREAM_TIMEOUT_MS = 5_000

/** Supabase Auth when SUPABASE_URL and a key are set, else local HS256 tokens. */
export function createVerifier(config: Config, db: Database, logger: Logger): TokenVerifier {
  const apiKey = config.SUPABASE_ANON_KEY ?? config.SUPABASE_SERVICE_ROLE_KEY
  if (config.SUPABASE_URL && apiKey) {
    return new SupabaseVerifier(
      {
        url: config.SUPABASE_URL,
        apiKey,
        timeoutMs: AUTH_UPSTREAM_TIMEOUT_MS,
        breaker: {
          errorThresholdPercent: config.BREAKER_ERROR_THRESHOLD_PERCENT,
          volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
          resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
        },
      },
      logger,
    )
  }
  const secret = resolveLocalSecret(config)
  logger.info({ source: secret.source, path: secret.path }, 'local auth: HS256 secret')
  return new LocalVerifier(secret.secret, db)
}
