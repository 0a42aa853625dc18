import type { MiddlewareHandler } from 'hono'

/**
 * A route's middleware as a tuple (`middleware: guards(requireAuth(), rateLimit(…))`): an array
 * literal would widen to `Handler[]`, and @hono/zod-openapi only carries the variables each
 * middleware declares (a typed `user`) into the handler from a tuple.
 */
// biome-ignore lint/suspicious/noExplicitAny: any env, path and input — the tuple keeps each one's own.
export const guards = <const M extends MiddlewareHandler<any, any, any>[]>(...middleware: M): M => middleware
