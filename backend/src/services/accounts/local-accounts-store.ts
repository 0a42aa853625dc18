import { REVOCATION_RETENTION_SECONDS } from '@/lib/auth/local-verifier'
import type { Database, Tx } from '@/lib/db/database'
import localAccountsSql from '@/lib/db/sql/local-accounts.sql' with { type: 'text' }

/** A local account's user as stored (auth.users), in the shape the session's `user` is built from. */
export interface AccountRow {
  id: string
  email: string | null
  app_metadata: Record<string, unknown>
  user_metadata: Record<string, unknown>
  created_at: string
  updated_at: string
  /** Whether the user has a password (a user known only from `bun run token` has none). */
  has_password: boolean
  last_sign_in_at: string | null
}

/** What a refresh token exchange found. */
export type RefreshOutcome =
  | { kind: 'rotated'; sessionId: string; user: AccountRow }
  | { kind: 'unknown' }
  /** The token had been used already: its session is now revoked (`revoked` is false if it already was). */
  | { kind: 'reused'; sessionId: string; userId: string; revoked: boolean }

const USER_COLUMNS = `u.id, u.email, u.raw_app_meta_data as app_metadata, u.raw_user_meta_data as user_metadata,
  to_json(u.created_at) #>> '{}' as created_at, to_json(u.updated_at) #>> '{}' as updated_at,
  (c.user_id is not null) as has_password,
  (select to_json(max(s.created_at)) #>> '{}' from auth.local_sessions s where s.user_id = u.id) as last_sign_in_at`

const USER_FROM = 'auth.users u left join auth.local_credentials c on c.user_id = u.id'

/**
 * SQL of local accounts. Every statement runs as the connection's own role through
 * `db.transaction`: auth.users is reachable by no API role (the bootstrap grants them nothing on
 * it, as Supabase does), and each account operation reads or writes it in the same transaction
 * as the account tables, which are locked the same way (local-accounts.sql).
 */
export class LocalAccountStore {
  constructor(private readonly db: Database) {}

  /** Creates the account tables where they are missing (idempotent; local mode only). */
  async ensureSchema(): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Two instances starting at once over one DATABASE_URL must not race their `create`s.
      await tx.query('select pg_advisory_xact_lock(hashtext($1))', ['pilar:local-accounts'])
      await tx.exec(localAccountsSql)
    })
  }

  /**
   * Creates the user (or takes over the row `bun run token` made for the same e-mail, which has
   * the same id and no password), their password and a first session with its refresh token.
   * `null` when the e-mail already has a password.
   */
  signUp(input: {
    userId: string
    email: string
    passwordHash: string
    userMetadata: Record<string, unknown>
    sessionId: string
    refreshHash: string
  }): Promise<AccountRow | null> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `insert into auth.users (id, email, raw_app_meta_data, raw_user_meta_data)
         values ($1, $2, '{"provider":"email","providers":["email"]}'::jsonb, '{}'::jsonb)
         on conflict (id) do nothing`,
        [input.userId, input.email],
      )
      const created = await tx.query(
        `insert into auth.local_credentials (user_id, password_hash) values ($1, $2)
         on conflict (user_id) do nothing returning user_id`,
        [input.userId, input.passwordHash],
      )
      if (created.length === 0) return null
      await tx.query(
        // Taking over a `bun run token` user: its app_metadata came from that token (maybe an
        // --admin one), so it is reset to what a sign-up gets.
        `update auth.users set email = $2, raw_user_meta_data = $3::text::jsonb,
                raw_app_meta_data = '{"provider":"email","providers":["email"]}'::jsonb, updated_at = now()
          where id = $1`,
        [input.userId, input.email, JSON.stringify(input.userMetadata)],
      )
      await this.#openSession(tx, input.userId, input.sessionId, input.refreshHash)
      return this.#user(tx, input.userId)
    })
  }

  /** The stored password hash of a user, if they have one. */
  async passwordHash(userId: string): Promise<string | undefined> {
    const [row] = await this.db.transaction((tx) =>
      tx.query<{ password_hash: string }>(
        'select password_hash from auth.local_credentials where user_id = $1',
        [userId],
      ),
    )
    return row?.password_hash
  }

  /**
   * A new session with its first refresh token, and the user as stored now — only while
   * `passwordHash` (the one the sign-in verified) is still the user's: the check took tens of
   * milliseconds, and the account may have been deleted, or deleted and signed up again under
   * the same id, meanwhile. Null when it is not.
   */
  openSession(
    userId: string,
    sessionId: string,
    refreshHash: string,
    passwordHash: string,
  ): Promise<AccountRow | null> {
    return this.db.transaction(async (tx) => {
      const opened = await this.#openSession(tx, userId, sessionId, refreshHash, passwordHash)
      return opened ? this.#user(tx, userId) : null
    })
  }

  /**
   * Opens the session (with `passwordHash`: only if it is still the stored one); true if it did.
   * Stamped with the clock, not the transaction's start: a session must never look older than a
   * deletion it waited behind (the verifier compares the two, local-verifier.ts).
   */
  async #openSession(tx: Tx, userId: string, sessionId: string, refreshHash: string, passwordHash?: string) {
    // The user row first, key-share locked: a deletion that already removed it (uncommitted)
    // is waited for and then finds none here — not a foreign-key violation (a 500) at the
    // insert — and one that has not yet waits for this transaction, and its cascade then takes
    // the session. The insert below then reads the credential as committed after that wait.
    const [user] = await tx.query('select 1 from auth.users where id = $1 for key share', [userId])
    if (!user) return false
    const opened = await tx.query(
      `insert into auth.local_sessions (id, user_id, created_at)
       select $1, $2, clock_timestamp()
        where $3::text is null
           or exists (select 1 from auth.local_credentials where user_id = $2 and password_hash = $3)
       returning id`,
      [sessionId, userId, passwordHash ?? null],
    )
    if (opened.length === 0) return false
    await tx.query(
      'insert into auth.local_refresh_tokens (token_hash, session_id, user_id) values ($1, $2, $3)',
      [refreshHash, sessionId, userId],
    )
    return true
  }

  /**
   * Exchanges a refresh token (by its hash) for its child `nextHash`. The presented row is
   * locked, so of two concurrent exchanges of one token exactly one rotates and the other is
   * reuse. Reuse revokes the session in the same transaction.
   */
  refresh(presentedHash: string, nextHash: string): Promise<RefreshOutcome> {
    return this.db.transaction(async (tx) => {
      const [token] = await tx.query<{
        session_id: string
        user_id: string
        used: boolean
        session_revoked: boolean
        expired: boolean
      }>(
        // Ended here (/auth/v1/logout, reuse) or through POST /api/v1/auth/logout, which revokes
        // the session in public.auth_revoked_sessions only: either way its refresh tokens are dead.
        `select t.session_id, t.user_id, t.used_at is not null as used,
                s.revoked_at is not null or exists (
                  select 1 from public.auth_revoked_sessions r where r.revocation_key = 'session:' || s.id::text
                ) as session_revoked,
                -- A refresh token lives as long as a revocation row does (30 days + 60 s), so no
                -- token can outlive the record that its session was ended.
                t.created_at < now() - make_interval(secs => $2) as expired
           from auth.local_refresh_tokens t join auth.local_sessions s on s.id = t.session_id
          where t.token_hash = $1
          for update of t, s`,
        [presentedHash, REVOCATION_RETENTION_SECONDS - 60],
      )
      if (!token || token.expired) return { kind: 'unknown' }
      if (token.used) {
        const revoked = await tx.query(
          `update auth.local_sessions set revoked_at = now(), revoked_reason = 'refresh_token_reuse'
            where id = $1 and revoked_at is null returning id`,
          [token.session_id],
        )
        return {
          kind: 'reused',
          sessionId: token.session_id,
          userId: token.user_id,
          revoked: revoked.length > 0,
        }
      }
      // A logged-out session's tokens are dead, as if deleted (GoTrue deletes them).
      if (token.session_revoked) return { kind: 'unknown' }
      await tx.query('update auth.local_refresh_tokens set used_at = now() where token_hash = $1', [
        presentedHash,
      ])
      await tx.query(
        `insert into auth.local_refresh_tokens (token_hash, session_id, user_id, parent_hash)
         values ($1, $2, $3, $4)`,
        [nextHash, token.session_id, token.user_id, presentedHash],
      )
      await tx.query('update auth.local_sessions set refreshed_at = now() where id = $1', [token.session_id])
      const user = await this.#user(tx, token.user_id)
      if (!user) return { kind: 'unknown' }
      return { kind: 'rotated', sessionId: token.session_id, user }
    })
  }

  /**
   * Marks sessions of `userId` revoked — `only` that one, or all but `except`, or all — and
   * returns the ids of those that were still open.
   */
  async revokeSessions(userId: string, scope: { only?: string; except?: string }): Promise<string[]> {
    const rows = await this.db.transaction((tx) =>
      tx.query<{ id: string }>(
        `update auth.local_sessions set revoked_at = now(), revoked_reason = 'logout'
          where user_id = $1 and revoked_at is null
            and ($2::uuid is null or id = $2::uuid)
            and ($3::uuid is null or id <> $3::uuid)
          returning id`,
        [userId, scope.only ?? null, scope.except ?? null],
      ),
    )
    return rows.map((row) => row.id)
  }

  /**
   * Removes sessions that ended (logout, reuse) longer ago than a token of theirs can live, and
   * spent refresh tokens older than that: a spent token presented after it is gone is simply
   * unknown (400), as a token nobody issued is. Open sessions and their current tokens stay.
   */
  async cleanup(): Promise<number> {
    const [row] = await this.db.transaction((tx) =>
      tx.query<{ n: number }>(
        `with ended as (
           delete from auth.local_sessions where revoked_at < now() - make_interval(secs => $1) returning 1
         ), spent as (
           delete from auth.local_refresh_tokens where used_at < now() - make_interval(secs => $1) returning 1
         )
         select ((select count(*) from ended) + (select count(*) from spent))::int as n`,
        [REVOCATION_RETENTION_SECONDS],
      ),
    )
    return Number(row?.n ?? 0)
  }

  /** The user as stored, or null. */
  user(userId: string): Promise<AccountRow | null> {
    return this.db.transaction((tx) => this.#user(tx, userId))
  }

  async #user(tx: Tx, userId: string): Promise<AccountRow | null> {
    const [row] = await tx.query<AccountRow>(`select ${USER_COLUMNS} from ${USER_FROM} where u.id = $1`, [
      userId,
    ])
    return row ?? null
  }
}
