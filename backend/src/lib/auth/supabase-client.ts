import { createClient, type SupabaseClient } from '@supabase/supabase-js'

/**
 * A server-side supabase-js client: no session kept or refreshed, nothing read from a URL, and
 * every call bounded by `timeoutMs` — supabase-js has no timeout of its own, and a hung auth
 * server must be a failure, not a request that never ends.
 */
export function serverSupabaseClient(url: string, key: string, timeoutMs: number): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: {
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => {
        const deadline = AbortSignal.timeout(timeoutMs)
        const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline
        return fetch(input, { ...init, signal })
      }) as typeof fetch,
    },
  })
}
