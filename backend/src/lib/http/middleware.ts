import type { Env, MiddlewareHandler } from 'hono'

/**
 * A route's middleware as a tuple (`middleware: guards(requireAuth(), rateLimit(…))`): an array
 * literal would widen to `Handler[]`, and @hono/zod-openapi only carries the variables each
 * middleware declares (a typed `user`) into the handler from a tuple.
 */
// biome-ignore lint/suspicious/noExplicitAny: any env, path and input — the tuple keeps each one's own.
export const guards = <const M extends MiddlewareHandler<any, any, any>[]>(...middleware: M): M => middleware

/**
 * Two middleware as one layer: `first`, whose `next` runs `second`. Hono's router gives each
 * registered middleware a layer of its own (an async dispatch and its promise, a few tenths of
 * a microsecond), so middleware that every request of a path meets is joined here instead.
 * A throw from `second` goes to Hono's error handler as from any layer; what `first` wrote
 * with `c.header` before calling `next` is on that error's answer too.
 */
export function inSeries<E extends Env>(
  first: MiddlewareHandler<E>,
  second: MiddlewareHandler<E>,
): MiddlewareHandler<E> {
  return function inSeries(c, next) {
    // `second`'s promise as `first`'s next (what it resolves to is what a layer's would be).
    return first(c, () => second(c, next) as Promise<void>)
  }
}
