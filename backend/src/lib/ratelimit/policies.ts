import type { Config } from '@/config'

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

/** The enabled policies from configuration (a limit of 0 turns that one off). */
export function policiesFrom(config: Config): Partial<Record<PolicyName, Policy>> {
  if (!config.RATE_LIMIT_ENABLED) return {}
  const windowMs = config.RATE_LIMIT_WINDOW_SECONDS * 1000
  const limits: Record<PolicyName, number> = {
    api: config.RATE_LIMIT_API,
    ai: config.RATE_LIMIT_AI,
    auth_failures: config.RATE_LIMIT_AUTH_FAILURES,
    ingest: config.RATE_LIMIT_INGEST,
  }
  const policies: Partial<Record<PolicyName, Policy>> = {}
  for (const name of POLICY_NAMES) {
    if (limits[name] > 0) policies[name] = { name, limit: limits[name], windowMs }
  }
  return policies
}
