/**
 * The rate-limit policies. Each has its own key namespace, so one policy's traffic never spends
 * another's quota. Authenticated requests are keyed by user, never by address: many people
 * share one address behind a NAT, an office proxy or a load balancer without `TRUST_PROXY`.
 * - `api`: per user, every authenticated `/api` request (applied once the user is known);
 * - `anon`: per client address, `/api` requests without a token (or to a route that reads none);
 * - `ai`: per user, the LLM routes of `/api/v1/ai` (they cost tokens; history reads do not);
 * - `auth_failures`: per client address, counts only refused bearer tokens; once spent, refused
 *   tokens from that address get 429 instead of 401, and in Supabase mode uncached tokens are
 *   refused before they cost a call to the auth server. A token that verifies locally, or is
 *   cached, is always served;
 * - `ingest`: per admin user, knowledge-base ingest (it embeds and writes a lot per call);
 * - `events`: per user, activity-event batches (`POST /api/v1/events`, up to 100 events each);
 * - `ready`: per client address, `/ready` (it pings the database), with the `anon` limit;
 * - `signin_email`: per e-mail address (its hash), password sign-ins at `/auth/v1/token`, so
 *   guessing one account's password is slow from any number of addresses;
 * - `signin_address`: per client address, password sign-ins whatever the e-mail;
 * - `signup_address`: per client address, sign-ups at `/auth/v1/signup`.
 */
export const POLICY_NAMES = [
  'api',
  'anon',
  'ai',
  'auth_failures',
  'ingest',
  'events',
  'ready',
  'signin_email',
  'signin_address',
  'signup_address',
] as const
export type PolicyName = (typeof POLICY_NAMES)[number]
/** The policies of local accounts' sign-in and sign-up (/auth/v1). */
export type AccountPolicyName = 'signin_email' | 'signin_address' | 'signup_address'
type OptionalPolicyName = AccountPolicyName | 'events'

/**
 * Policies that refuse (429) while the store cannot answer, whatever RATE_LIMIT_FAIL_CLOSED
 * says: an unlimited `ai` costs real money, and an unlimited `auth_failures` would let token
 * guessing through to the auth server. The others follow the setting (open by default), so a
 * Redis outage does not become an API outage.
 */
const ALWAYS_FAIL_CLOSED: ReadonlySet<PolicyName> = new Set([
  'ai',
  'auth_failures',
  // Unlimited password guessing is what these exist to prevent.
  'signin_email',
  'signin_address',
])

export interface Policy {
  name: PolicyName
  limit: number
  windowMs: number
  /** While the store is down: refuse (true) or allow unlimited (false). */
  failClosed: boolean
}

export interface PolicyOptions {
  /** RATE_LIMIT_ENABLED: false turns every policy off. */
  enabled: boolean
  windowSeconds: number
  /**
   * Requests per window for each policy; 0 turns that one off. The local-account policies and
   * `events` may be left out (off): they matter only where their routes are served, and
   * config.ts always sets them.
   */
  limits: Record<Exclude<PolicyName, OptionalPolicyName>, number> &
    Partial<Record<OptionalPolicyName, number>>
  /** RATE_LIMIT_FAIL_CLOSED: refuse on a store failure for the policies that do not always. */
  failClosed: boolean
}

/** The enabled policies from configuration (a limit of 0 turns that one off). */
export function policiesFrom(options: PolicyOptions): Partial<Record<PolicyName, Policy>> {
  if (!options.enabled) return {}
  const windowMs = options.windowSeconds * 1000
  const policies: Partial<Record<PolicyName, Policy>> = {}
  for (const name of POLICY_NAMES) {
    const limit = options.limits[name] ?? 0
    const failClosed = options.failClosed || ALWAYS_FAIL_CLOSED.has(name)
    if (limit > 0) policies[name] = { name, limit, windowMs, failClosed }
  }
  return policies
}
