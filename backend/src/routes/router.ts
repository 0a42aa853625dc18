import type { Container } from '@/container'
import type { HttpEnv } from '@/lib/http/context'
import { createOpenApiRouter } from '@/lib/http/router'

/**
 * The one typed context of the app: what lib/http's middleware reads (`http`, `requestId`,
 * `clientIp`) plus the container for handlers (`services`). The user is not here: the auth
 * middleware in a route's `middleware` adds a typed `user` for that route's handler only.
 */
export interface AppEnv extends HttpEnv {
  Variables: HttpEnv['Variables'] & { services: Container }
}

/** A router of this app (the shared zod hook, the app's context type). */
export const createRouter = () => createOpenApiRouter<AppEnv>()

export type Router = ReturnType<typeof createRouter>
