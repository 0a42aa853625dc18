import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LocalSecret {
  secret: string
  source: 'LOCAL_JWT_SECRET' | 'generated file' | 'generated in memory'
  /** Where a generated secret is kept, so `bun run token` and the server agree. */
  path?: string
}

export const SECRET_FILE = 'local-jwt-secret'

/**
 * The HS256 secret for local-mode tokens: LOCAL_JWT_SECRET, else one generated once and kept
 * under DATA_DIR with owner-only permissions. With DATA_DIR=":memory:" a generated secret lives
 * only as long as the process. Never SUPABASE_JWT_SECRET: with it, tokens a Supabase project
 * issued would verify here offline, past the logouts and bans only Supabase Auth knows about
 * (config.ts refuses that variable without SUPABASE_URL).
 */
export interface LocalSecretOptions {
  /** LOCAL_JWT_SECRET (at least 32 characters). */
  localJwtSecret: string | undefined
  /** DATA_DIR, where a generated secret is kept; `:memory:` keeps it in memory. */
  dataDir: string
}

export function resolveLocalSecret(options: LocalSecretOptions): LocalSecret {
  if (options.localJwtSecret) return { secret: options.localJwtSecret, source: 'LOCAL_JWT_SECRET' }
  const fresh = () => Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url')
  if (options.dataDir === ':memory:') return { secret: fresh(), source: 'generated in memory' }
  const path = join(options.dataDir, SECRET_FILE)
  if (!existsSync(path)) {
    mkdirSync(options.dataDir, { recursive: true })
    // flag wx: if another process wrote it first, keep theirs.
    try {
      writeFileSync(path, fresh(), { mode: 0o600, flag: 'wx' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  chmodSync(path, 0o600)
  return { secret: readFileSync(path, 'utf8').trim(), source: 'generated file', path }
}
