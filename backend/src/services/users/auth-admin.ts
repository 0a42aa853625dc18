import { isAuthApiError, type SupabaseClient } from '@supabase/supabase-js'
import { serverSupabaseClient } from '@/lib/auth/supabase-client'
import { AuthUnavailableError } from '@/lib/auth/types'

/** What account deletion asks of Supabase Auth (GoTrue) once our own rows are gone. */
export interface AuthAdmin {
  /** True when the auth user itself can be deleted (a service-role key is configured). */
  readonly canDeleteUsers: boolean
  /** Deletes the auth user and with it every session (`auth.admin.deleteUser`). */
  deleteUser(userId: string): Promise<void>
  /** Ends every session of the token's user (`signOut(token, 'global')`): without a service key. */
  signOutEverywhere(token: string): Promise<void>
}

export interface SupabaseAuthAdminOptions {
  url: string
  /** SUPABASE_SERVICE_ROLE_KEY, when set; else the anon key, which can only sign out. */
  serviceRoleKey: string | undefined
  anonKey: string | undefined
  timeoutMs: number
}

/**
 * supabase-js's admin API over its own client. Not behind the verifier's breaker: these are rare,
 * user-initiated calls, bounded by a deadline, and an outage answers 503 (the client retries
 * the DELETE, which is idempotent) rather than opening the hot path's breaker.
 */
export class SupabaseAuthAdmin implements AuthAdmin {
  readonly canDeleteUsers: boolean
  readonly #client: SupabaseClient

  constructor(options: SupabaseAuthAdminOptions) {
    const key = options.serviceRoleKey ?? options.anonKey
    if (!key) throw new Error('SupabaseAuthAdmin needs a service-role or anon key')
    this.canDeleteUsers = options.serviceRoleKey !== undefined
    this.#client = serverSupabaseClient(options.url, key, options.timeoutMs)
  }

  async deleteUser(userId: string): Promise<void> {
    if (!this.canDeleteUsers) throw new Error('deleting auth users needs SUPABASE_SERVICE_ROLE_KEY')
    const { error } = await this.#client.auth.admin.deleteUser(userId)
    // Already gone (a retried DELETE) is done.
    if (error && !(isAuthApiError(error) && (error.status === 404 || error.code === 'user_not_found'))) {
      throw new AuthUnavailableError('could not delete the auth user', 5, { cause: error })
    }
  }

  async signOutEverywhere(token: string): Promise<void> {
    const { error } = await this.#client.auth.admin.signOut(token, 'global')
    // A session that is already gone is fine: its tokens are refused upstream anyway.
    if (
      error &&
      !(isAuthApiError(error) && (error.status === 401 || error.status === 403 || error.status === 404))
    ) {
      throw new AuthUnavailableError('could not end the sessions', 5, { cause: error })
    }
  }
}
