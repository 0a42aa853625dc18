import type { ErrorCode } from '@/lib/errors/codes'
import { type AuthRequirement, authRequirement } from '@/lib/http/auth'
import { isRouteRateLimit, unwrapped } from '@/lib/http/rate-limit'
import { declaredCodes, errorResponses } from '@/lib/http/schemas'
import { goTrueErrors } from '@/routes/local-auth/schemas'
import type { Router } from '@/routes/router'

type Definition = Router['openAPIRegistry']['definitions'][number]
type RouteConfig = Extract<Definition, { type: 'route' }>['route']

const WRITES = new Set(['post', 'put', 'patch', 'delete'])

/** What an endpoint's handlers (its middleware, validators, handler) tell the document. */
interface Handlers {
  /** The auth middleware's requirements, found by identity (lib/http/auth.ts marks them). */
  auth: AuthRequirement[]
  /** A route-level `rateLimit(…)`, found by identity (lib/http/rate-limit.ts marks them). */
  rateLimited: boolean
}

/**
 * What each endpoint's handlers say, keyed `GET /api/v1/teams/{id}`: the registry keeps a
 * route's schemas but not its middleware, the app's route table does.
 */
function handlersOf(app: Router): Map<string, Handlers> {
  const found = new Map<string, Handlers>()
  for (const { method, path, handler } of app.routes) {
    if (path.endsWith('*')) continue
    const key = `${method} ${path.replace(/:(\w+)/g, '{$1}')}`
    const entry = found.get(key) ?? { auth: [], rateLimited: false }
    const target = unwrapped(handler)
    const requirement = authRequirement(target)
    if (requirement) entry.auth.push(requirement)
    if (isRouteRateLimit(target)) entry.rateLimited = true
    found.set(key, entry)
  }
  return found
}

/**
 * The errors a route answers without saying so in its own file: what app.ts's middleware and
 * the route's auth middleware add. Kept next to the document so it cannot drift from a route:
 * every new route gets them. tests/integration/openapi-contract.test.ts provokes each one.
 */
function impliedCodes(route: RouteConfig, handlers: Handlers): ErrorCode[] {
  const codes: ErrorCode[] = ['INTERNAL']
  const { request } = route
  if (request?.params || request?.query || request?.body) codes.push('VALIDATION_ERROR')
  if (route.path.startsWith('/api/')) {
    // apiRateLimit (per address, or per user in the auth middleware).
    codes.push('RATE_LIMITED')
    // bodyLimit and jsonBody run on every write under /api, whether or not the route reads a body.
    if (WRITES.has(route.method)) codes.push('INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE')
  }
  if (handlers.auth.length > 0) {
    // A refused token is a 401, or a 429 once the address spent its failure quota; the verifier
    // (Supabase) or the session lookup (local accounts) can be unavailable.
    codes.push('UNAUTHORIZED', 'RATE_LIMITED', 'AUTH_UNAVAILABLE', 'DATABASE_UNAVAILABLE')
  }
  if (handlers.auth.includes('admin')) codes.push('FORBIDDEN')
  if (handlers.rateLimited) codes.push('RATE_LIMITED')
  return codes
}

function withImpliedErrors(route: RouteConfig, handlers: Handlers): RouteConfig {
  const responses = { ...route.responses }
  if (route.path.startsWith('/auth/v1/')) {
    // GoTrue-shaped errors (routes/local-auth/on-error.ts): anything unexpected is a 500, and
    // every /auth/v1 route reads the accounts database.
    for (const [status, entry] of Object.entries(goTrueErrors(500, 503))) responses[status] ??= entry
    return { ...route, responses }
  }
  const byStatus = errorResponses(...impliedCodes(route, handlers))
  for (const status of Object.keys(byStatus)) {
    const existing = responses[status]
    const codes = declaredCodes(existing)
    // A status answered with a body of its own (e.g. /ready's 503) is left as the route says.
    if (existing !== undefined && codes.length === 0) continue
    const implied = declaredCodes(byStatus[Number(status)])
    Object.assign(responses, errorResponses(...codes, ...implied))
  }
  const security =
    route.security ??
    (handlers.auth.length === 0
      ? undefined
      : handlers.auth.every((a) => a === 'optional')
        ? [{}, { bearer: [] }]
        : [{ bearer: [] }])
  return { ...route, responses, ...(security ? { security } : {}) }
}

/**
 * Completes every route the app registered with the errors and security its middleware gives
 * it. Call once, after every router is mounted and before the document is first generated.
 */
export function declareImpliedErrors(app: Router) {
  const handlers = handlersOf(app)
  const none: Handlers = { auth: [], rateLimited: false }
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route') continue
    const { method, path } = definition.route
    definition.route = withImpliedErrors(
      definition.route,
      handlers.get(`${method.toUpperCase()} ${path}`) ?? none,
    )
  }
}
