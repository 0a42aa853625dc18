import type { SessionTokenRequest } from '@/lib/auth/local-tokens'
import { localUserId } from '@/lib/auth/local-tokens'
import { sessionKey } from '@/lib/auth/token-cache'
import type { AuthUser } from '@/lib/auth/types'
import type { JwtClaims } from '@/lib/db/database'
import { DomainError, type DomainErrorCode } from '@/lib/errors/domain'
import { hashUserId, type Logger } from '@/lib/log'
import { hasUnstorable, storableJson } from '@/lib/text'
import type { AccountRow, LocalAccountStore } from '@/services/accounts/local-accounts-store'
import type { AuthService } from '@/services/auth'

/**
 * argon2id cost: 19 MiB of memory, 2 passes (one lane: Bun.password has no parallelism option)
 * — OWASP's second recommended setting, chosen over Bun's default (64 MiB) so that a burst of
 * sign-ins on a small machine does not hold hundreds of MiB. Stored hashes carry their own
 * parameters, so raising these later still verifies old hashes.
 */
export const PASSWORD_HASH = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const

export const PASSWORD_MIN_LENGTH = 8
/** Far beyond any real password; bounds the work one request can ask of argon2. */
export const PASSWORD_MAX_LENGTH = 1_024
export const EMAIL_MAX_LENGTH = 254
/** `data` (user_metadata) at sign-up, as JSON. */
export const USER_METADATA_MAX_BYTES = 8_192
/** Sign-up `data` goes into every access token: it stays shallow. */
const USER_METADATA_MAX_DEPTH = 8

/** The GoTrue error codes this feature answers with (what @supabase/auth-js reads). */
export type AccountErrorReason =
  | 'validation_failed'
  | 'weak_password'
  | 'user_already_exists'
  | 'invalid_credentials'
  | 'refresh_token_not_found'
  | 'refresh_token_already_used'
  | 'user_not_found'

/** A refusal of an account operation: the API code plus the GoTrue reason the routes answer with. */
export class AccountError extends DomainError {
  constructor(
    code: DomainErrorCode,
    readonly reason: AccountErrorReason,
    message: string,
    /** For `weak_password`: GoTrue's `weak_password.reasons`. */
    readonly reasons?: string[],
  ) {
    super(code, message)
    this.name = 'AccountError'
  }
}

// One message and code for an unknown e-mail, a wrong password and a user without a password:
// the answer must not tell which (the same bytes, see the route).
const INVALID_CREDENTIALS = () =>
  new AccountError('VALIDATION_ERROR', 'invalid_credentials', 'Invalid login credentials')

/** GoTrue's user object, as supabase-js reads it. */
export interface AccountUser {
  id: string
  aud: 'authenticated'
  role: 'authenticated'
  email: string
  email_confirmed_at: string
  phone: string
  confirmed_at: string
  last_sign_in_at: string | null
  app_metadata: Record<string, unknown>
  user_metadata: Record<string, unknown>
  identities: []
  created_at: string
  updated_at: string
  is_anonymous: false
}

/** GoTrue's session, as supabase-js reads it. */
export interface AccountSession {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  expires_at: number
  refresh_token: string
  user: AccountUser
}

export type LogoutScope = 'global' | 'local' | 'others'

/** Signs an access token with the local verifier's secret (LocalVerifier.issue). */
export interface SessionTokenIssuer {
  issue(request: SessionTokenRequest): Promise<string>
}

export interface LocalAccountOptions {
  /** LOCAL_ACCESS_TOKEN_TTL_SECONDS */
  accessTokenTtlSeconds: number
}

/** How an e-mail address is compared and keyed: trimmed, lower-cased (as GoTrue does). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

/** The rate-limit subject of an e-mail address: a hash, so limiter keys never hold addresses. */
export function emailSubject(email: string): string {
  return Bun.SHA256.hash(`pilar-signin:${normalizeEmail(email)}`, 'hex')
}

const EMAIL = /^[^\s@]+@[^\s@]+$/

function refreshHash(token: string): string {
  return Bun.SHA256.hash(token, 'hex')
}

function newRefreshToken(): string {
  // 256 bits; only its SHA-256 is stored.
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

/**
 * Local accounts for the `/auth/v1` routes (local auth mode only): sign-up and password sign-in
 * (argon2id), refresh-token rotation with reuse detection, the user, and logout. Access tokens
 * are the local verifier's HS256 tokens carrying the account session's id; ending a session goes
 * through the same revocation as `POST /api/v1/auth/logout` (a revocation row the verifier
 * reads, this cache's eviction, the Redis bus to the other instances).
 */
export class LocalAccountService {
  #dummyHash: Promise<string> | undefined

  constructor(
    private readonly store: LocalAccountStore,
    private readonly issuer: SessionTokenIssuer,
    private readonly auth: AuthService,
    private readonly logger: Logger,
    private readonly options: LocalAccountOptions,
  ) {
    // Made now, so the first unknown e-mail does not pay for it (and stand out by its timing).
    void this.#dummy()
  }

  /** A hash to verify against when the e-mail has no password, so both cases cost one argon2 run. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= Bun.password.hash(crypto.randomUUID(), PASSWORD_HASH)
    return this.#dummyHash
  }

  get passwordHashParameters() {
    return PASSWORD_HASH
  }

  async signUp(input: {
    email: string
    password: string
    data?: Record<string, unknown>
  }): Promise<AccountSession> {
    const email = this.#email(input.email)
    const password = input.password
    if (password.length < PASSWORD_MIN_LENGTH) {
      throw new AccountError(
        'VALIDATION_ERROR',
        'weak_password',
        `Password should be at least ${PASSWORD_MIN_LENGTH} characters.`,
        ['length'],
      )
    }
    if (password.length > PASSWORD_MAX_LENGTH) {
      throw new AccountError(
        'VALIDATION_ERROR',
        'validation_failed',
        `Password cannot be longer than ${PASSWORD_MAX_LENGTH} characters`,
      )
    }
    const metadata = input.data ?? {}
    if (!storableJson(metadata, USER_METADATA_MAX_DEPTH)) {
      throw new AccountError(
        'VALIDATION_ERROR',
        'validation_failed',
        'data must not contain NUL characters or unpaired UTF-16 surrogates',
      )
    }
    if (Buffer.byteLength(JSON.stringify(metadata)) > USER_METADATA_MAX_BYTES) {
      throw new AccountError(
        'VALIDATION_ERROR',
        'validation_failed',
        `data must be at most ${USER_METADATA_MAX_BYTES} bytes of JSON`,
      )
    }
    const userId = localUserId(email)
    const passwordHash = await Bun.password.hash(password, PASSWORD_HASH)
    const sessionId = crypto.randomUUID()
    const refreshToken = newRefreshToken()
    const user = await this.store.signUp({
      userId,
      email,
      passwordHash,
      userMetadata: metadata,
      sessionId,
      refreshHash: refreshHash(refreshToken),
    })
    if (!user) throw new AccountError('CONFLICT', 'user_already_exists', 'User already registered')
    this.logger.info({ user: hashUserId(userId) }, 'local account created')
    return this.#session(user, sessionId, refreshToken)
  }

  async signIn(input: { email: string; password: string }): Promise<AccountSession> {
    const email = this.#email(input.email, INVALID_CREDENTIALS)
    const userId = localUserId(email)
    const stored = await this.store.passwordHash(userId)
    // Verified against a dummy when there is no password, so an unknown e-mail takes as long.
    const ok = await Bun.password.verify(input.password, stored ?? (await this.#dummy()))
    if (!ok || stored === undefined) throw INVALID_CREDENTIALS()
    const sessionId = crypto.randomUUID()
    const refreshToken = newRefreshToken()
    const user = await this.store.openSession(userId, sessionId, refreshHash(refreshToken), stored)
    if (!user) throw INVALID_CREDENTIALS()
    return this.#session(user, sessionId, refreshToken)
  }

  /** Rotates the refresh token; a spent one revokes its whole session. */
  async refresh(refreshToken: string): Promise<AccountSession> {
    const next = newRefreshToken()
    const outcome = await this.store.refresh(refreshHash(refreshToken), refreshHash(next))
    if (outcome.kind === 'unknown') {
      throw new AccountError(
        'VALIDATION_ERROR',
        'refresh_token_not_found',
        'Invalid Refresh Token: Refresh Token Not Found',
      )
    }
    if (outcome.kind === 'reused') {
      // Revoked again even if the session already was: the revocation row may have expired,
      // and another instance's cache may still hold a token of it.
      await this.#revokeSession(outcome.userId, outcome.sessionId)
      this.logger.warn(
        { user: hashUserId(outcome.userId), newly_revoked: outcome.revoked },
        'refresh token reused: session revoked',
      )
      throw new AccountError(
        'VALIDATION_ERROR',
        'refresh_token_already_used',
        'Invalid Refresh Token: Already Used',
      )
    }
    return this.#session(outcome.user, outcome.sessionId, next)
  }

  /** The caller's user object (the token was verified by the auth middleware). */
  async user(caller: AuthUser): Promise<AccountUser> {
    const row = await this.store.user(caller.id)
    if (!row)
      throw new AccountError('NOT_FOUND', 'user_not_found', 'User from sub claim in JWT does not exist')
    return toAccountUser(row)
  }

  /**
   * Ends the caller's session (`local`), every other session of theirs (`others`), or all of
   * them (`global`, supabase-js's default). Their refresh tokens stop working, and their access
   * tokens are refused at once, here and on every instance.
   */
  async logout(header: string | undefined, caller: AuthUser, scope: LogoutScope): Promise<void> {
    const current = caller.sessionId
    if (scope !== 'others') {
      // The current token's own path: exactly what POST /api/v1/auth/logout does.
      await this.auth.logout(header, caller)
    }
    if (scope === 'local') {
      if (current) await this.store.revokeSessions(caller.id, { only: current })
      return
    }
    const ended = await this.store.revokeSessions(
      caller.id,
      scope === 'others' && current ? { except: current } : {},
    )
    for (const sessionId of ended) {
      if (sessionId !== current) await this.#revokeSession(caller.id, sessionId)
    }
  }

  /**
   * Revokes a session of which no token is at hand (refresh-token reuse, `global` logout of the
   * other sessions), by the same steps as AuthService.logout: evict its cached tokens, write the
   * revocation row the verifier checks, evict again (a verification under way must not re-add
   * one), and tell the other instances.
   */
  async #revokeSession(userId: string, sessionId: string): Promise<void> {
    const session = sessionKey(sessionId)
    // No token has this key: only the session's entries go.
    this.auth.cache.evictToken(session, session)
    await this.auth.verifier.revoke('', { id: userId, sessionId, claims: { sub: userId } as JwtClaims })
    this.auth.cache.evictToken(session, session)
    await this.auth.bus?.publish({ kind: 'token', key: session, session })
  }

  #email(raw: string, refuse?: () => AccountError): string {
    const email = normalizeEmail(raw)
    if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || !EMAIL.test(email) || hasUnstorable(email)) {
      throw (
        refuse?.() ??
        new AccountError(
          'VALIDATION_ERROR',
          'validation_failed',
          'Unable to validate email address: invalid format',
        )
      )
    }
    return email
  }

  async #session(row: AccountRow, sessionId: string, refreshToken: string): Promise<AccountSession> {
    const user = toAccountUser(row)
    const issuedAt = Math.floor(Date.now() / 1000)
    const ttl = this.options.accessTokenTtlSeconds
    // Never a role from app_metadata: a dev token minted with --admin writes role: admin into
    // auth.users, and whoever signed up with that e-mail would inherit it. A local account is an
    // admin only through user_profiles.role, which only an admin or the service sets.
    const appMetadata = withoutRole(row.app_metadata)
    const accessToken = await this.issuer.issue({
      userId: row.id,
      email: user.email,
      sessionId,
      appMetadata,
      userMetadata: row.user_metadata,
      ttlSeconds: ttl,
      issuedAt,
    })
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: ttl,
      expires_at: issuedAt + ttl,
      refresh_token: refreshToken,
      user,
    }
  }
}

function toAccountUser(row: AccountRow): AccountUser {
  return {
    id: row.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: row.email ?? '',
    // No confirmation e-mail in local mode: an account is confirmed when it is created.
    email_confirmed_at: row.created_at,
    phone: '',
    confirmed_at: row.created_at,
    last_sign_in_at: row.last_sign_in_at,
    app_metadata: withoutRole(row.app_metadata ?? {}),
    user_metadata: row.user_metadata ?? {},
    identities: [],
    created_at: row.created_at,
    updated_at: row.updated_at,
    is_anonymous: false,
  }
}

/** app_metadata as a local account carries it: never a role (see #session). */
function withoutRole(appMetadata: Record<string, unknown>): Record<string, unknown> {
  const { role: _role, ...rest } = appMetadata
  return rest
}
