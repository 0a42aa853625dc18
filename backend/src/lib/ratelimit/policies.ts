/**
 * The rate-limit policies. Each has its own key namespace, so one policy's traffic never spends
 * another's quota:
 * - `api`: per client IP, every `/api` route;
 * - `ai`: per user, the `/api/v1/ai` routes (they cost LLM tokens);
 * - `auth_failures`: per client IP, counts only rejected bearer tokens; once spent, tokens from
 *   that IP are refused before verification (slows token guessing, spares the auth server);
 * - `ingest`: per admin user, knowledge-base ingest (it embeds and writes a lot per call).
 */
export const POLICY_NAMES = ['api', 'ai', 'auth_failures', 'ingest'] as const
export type PolicyName = (typeof POLICY_NAMES)[number]

export interface Policy {
  name: PolicyName
  limit: number
  windowMs: number
}

export interface PolicyOptions {
  /** RATE_LIMIT_ENABLED: false turns every policy off. */
  enabled: boolean
  windowSeconds: number
  /** Requests per window for each policy; 0 turns that one off. */
  limits: Record<PolicyName, number>
}

/** The enabled policies from configuration (a limit of 0 turns that one off). */
export function policiesFrom(options: PolicyOptions): Partial<Record<PolicyName, Policy>> {
  if (!options.enabled) return {}
  const windowMs = options.windowSeconds * 1000
  const policies: Partial<Record<PolicyName, Policy>> = {}
  for (const name of POLICY_NAMES) {
    const limit = options.limits[name]
    if (limit > 0) policies[name] = { name, limit, windowMs }
  }
  return policies
}
