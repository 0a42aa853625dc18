import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '@/lib/http/context'
import type { Services } from '@/services'

/** Puts the boot-time services on the typed context, so handlers never import singletons. */
export function provideServices(services: Services): MiddlewareHandler<AppEnv> {
  return async function provideServices(c, next) {
    c.set('services', services)
    await next()
  }
}
