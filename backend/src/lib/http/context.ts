import type { Server } from 'bun'
import type { TrustProxy } from '@/config'
import type { Authenticator } from '@/lib/auth/types'
import type { VerifyGate } from '@/lib/http/verify-gate'
import type { Logger } from '@/lib/log'
import type { RateLimiter } from '@/lib/ratelimit/limiter'

/**
 * What the middleware in lib/http needs at request time. Routes are defined at module load,
 * before anything is built, so their middleware cannot be handed these as options; app.ts puts
 * them on the context once per request instead (lib never sees the container).
 */
export interface HttpDeps {
  authenticator: Authenticator
  rateLimiter: RateLimiter
  logger: Logger
  trustProxy: TrustProxy
  /** Bounds each client address's token verifications in flight (lib/http/verify-gate.ts). */
  verifyGate: VerifyGate
}

/** The context every lib/http middleware shares; the app's own `HttpEnv` extends it. */
export interface HttpEnv {
  Bindings: { server?: Server<undefined> }
  Variables: {
    requestId: string
    http: HttpDeps
    /** The client's address (see client-ip.ts), once something has asked for it. */
    clientIp?: string
  }
}
