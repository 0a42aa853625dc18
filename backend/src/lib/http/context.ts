import type { Server } from 'bun'
import type { Services } from '@/services'

/** The one typed context every route and middleware shares. */
export interface AppEnv {
  Bindings: { server?: Server<undefined> }
  Variables: {
    requestId: string
    services: Services
    /** Set by the auth middleware; a hash of its id is added to the request log line. */
    userIdHash?: string
  }
}
