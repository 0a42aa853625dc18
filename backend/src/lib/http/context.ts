import type { Server } from 'bun'
import type { AuthUser } from '@/lib/auth/types'
import type { Services } from '@/services'

/** The one typed context every route and middleware shares. */
export interface AppEnv {
  Bindings: { server?: Server<undefined> }
  Variables: {
    requestId: string
    services: Services
    /** Set by the auth middleware (`requireAuth`, `optionalAuth`, `requireAdmin`). */
    user?: AuthUser
    /** The client's address (see client-ip.ts), once something has asked for it. */
    clientIp?: string
  }
}
