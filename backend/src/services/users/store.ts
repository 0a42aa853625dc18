import { REVOCATION_RETENTION_SECONDS, userRevocationKey } from '@/lib/auth/local-verifier'
import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { keysetCondition } from '@/lib/db/keyset'
import type { Keyset } from '@/lib/http/pagination'
import { hashUserId } from '@/lib/log'
import type { Mode, PillarId } from '@/services/pilar/framework'

export interface ProfileRow {
  id: string
  email: string | null
  display_name: string | null
  /** Set once the user changes display_name (boards show only a chosen name). */
  display_name_chosen: boolean
  bio: string | null
  avatar_url: string | null
  position: string | null
  goal: string | null
  preferences: Record<string, unknown>
  role: 'user' | 'admin'
  leaderboard_opt_in: boolean
  last_seen_at: Date | null
  created_at: Date
  updated_at: Date
}

/** What a user may change of their profile: exactly the columns granted UPDATE to them. */
export interface ProfilePatch {
  display_name?: string
  bio?: string | null
  avatar_url?: string | null
  position?: string | null
  goal?: string | null
  preferences?: Record<string, unknown>
  leaderboard_opt_in?: boolean
}

const EDITABLE = [
  'display_name',
  'bio',
  'avatar_url',
  'position',
  'goal',
  'preferences',
  'leaderboard_opt_in',
] as const satisfies readonly (keyof ProfilePatch)[]

const PROFILE = `id, email, display_name, display_name_chosen, bio, avatar_url, position, goal, preferences,
  role, leaderboard_opt_in, last_seen_at, created_at, updated_at`

/** One pillar and mode of the caller's completed assessments (`history` ≤ 10, newest first). */
export interface ProgressRow {
  pillar_id: PillarId
  mode: Mode
  completed_count: number
  latest_score: number
  best_score: number
  last_completed_at: string
  history: { assessment_id: string; completed_at: string; score: number }[]
}

export interface ProgressTotals {
  completed: number
  in_progress: number
  pillars_covered: number
  modes_covered: number
}

const ISO = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
const KEY = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key`

/** Why an account could not be deleted. */
export type DeleteRefusal = 'owns_team_with_members'

export interface DeleteOptions {
  /** Our own auth.users (embedded or plain Postgres): its row goes too, cascading to every FK. */
  deleteAuthUser: boolean
  /** Local auth: leave the tombstone that refuses the account's earlier tokens. */
  tombstone: boolean
}

/**
 * SQL for profiles, progress, export and deletion. Everything a user asked to see runs as the
 * user (RLS applies) and names the owner as well; the first-use insert and the deletion run as
 * the service, filtered by owner.
 */
export class UserStore {
  constructor(private readonly db: Database) {}

  async profile(claims: JwtClaims): Promise<ProfileRow | undefined> {
    const [row] = await this.db.asUser(claims, (tx) =>
      tx.query<ProfileRow>(`select ${PROFILE} from public.user_profiles where id = $1`, [claims.sub]),
    )
    return row
  }

  /** The row AuthService normally creates on first sight; for a row that went missing since. */
  async ensureProfile(userId: string, email: string | null, displayName: string | null): Promise<void> {
    await this.db.asService((tx) =>
      tx.query(
        `insert into public.user_profiles (id, email, display_name) values ($1, $2, $3) on conflict (id) do nothing`,
        [userId, email, displayName],
      ),
    )
  }

  /** One UPDATE of the given columns, as the user and filtered by owner; undefined if no row. */
  async update(claims: JwtClaims, patch: ProfilePatch): Promise<ProfileRow | undefined> {
    const params: unknown[] = [claims.sub]
    const sets: string[] = []
    for (const column of EDITABLE) {
      const value = patch[column]
      if (value === undefined) continue
      if (column === 'preferences') {
        // See CLAUDE.md: a string bound to $n::jsonb would be stored as a JSON string.
        params.push(JSON.stringify(value))
        sets.push(`preferences = $${params.length}::text::jsonb`)
      } else {
        params.push(value)
        sets.push(`${column} = $${params.length}`)
      }
    }
    if (sets.length === 0) return this.profile(claims)
    const [row] = await this.db.asUser(claims, (tx) =>
      tx.query<ProfileRow>(
        `update public.user_profiles set ${sets.join(', ')} where id = $1 returning ${PROFILE}`,
        params,
      ),
    )
    return row
  }

  /** Per pillar and mode, from completed assessments, plus totals: all in SQL, in one transaction. */
  async progress(claims: JwtClaims): Promise<{ pillars: ProgressRow[]; totals: ProgressTotals }> {
    return this.db.asUser(claims, async (tx) => {
      const pillars = await tx.query<ProgressRow>(
        `with done as (
           select id, pillar_id, mode, completed_at, (results ->> 'pillar_score')::float8 as score,
                  row_number() over (partition by pillar_id, mode order by completed_at desc, id desc) as n
             from public.assessment_sessions
            where user_id = $1 and status = 'completed'
         )
         select pillar_id, mode, count(*)::int as completed_count,
                (array_agg(score order by completed_at desc, id desc))[1] as latest_score,
                max(score) as best_score,
                ${ISO('max(completed_at)')} as last_completed_at,
                jsonb_agg(
                  jsonb_build_object('assessment_id', id, 'completed_at', ${ISO('completed_at')}, 'score', score)
                  order by completed_at desc, id desc
                ) filter (where n <= 10) as history
           from done
          group by pillar_id, mode
          order by mode, pillar_id`,
        [claims.sub],
      )
      const [totals] = await tx.query<ProgressTotals>(
        `select count(*) filter (where status = 'completed')::int as completed,
                count(*) filter (where status = 'in_progress')::int as in_progress,
                count(distinct pillar_id) filter (where status = 'completed')::int as pillars_covered,
                count(distinct mode) filter (where status = 'completed')::int as modes_covered
           from public.assessment_sessions where user_id = $1`,
        [claims.sub],
      )
      return {
        pillars,
        totals: totals ?? { completed: 0, in_progress: 0, pillars_covered: 0, modes_covered: 0 },
      }
    })
  }

  // ---- export: keyset pages, each its own short transaction as the user ----------------------

  assessmentsPage(claims: JwtClaims, after: Keyset | undefined, limit: number) {
    const params: unknown[] = [claims.sub, limit]
    return this.db.asUser(claims, (tx) =>
      tx.query<Record<string, unknown> & { created_key: string }>(
        `select id, pillar_id, mode, status, responses, results, created_at, updated_at, completed_at,
                ${KEY('created_at')}
           from public.assessment_sessions
          where user_id = $1${keysetCondition(params, after, 'created_at, id', '>')}
          order by created_at, id limit $2`,
        params,
      ),
    )
  }

  /** Conversations still visible to their owner (an expired one is gone for them; the job purges it). */
  conversationsPage(claims: JwtClaims, after: Keyset | undefined, limit: number) {
    const params: unknown[] = [claims.sub, limit]
    return this.db.asUser(claims, (tx) =>
      tx.query<Record<string, unknown> & { id: string; created_key: string }>(
        `select id, title, pillar_id, mode, created_at, updated_at, expires_at, ${KEY('created_at')}
           from public.conversations
          where user_id = $1 and expires_at > now()${keysetCondition(params, after, 'created_at, id', '>')}
          order by created_at, id limit $2`,
        params,
      ),
    )
  }

  messagesPage(claims: JwtClaims, conversationId: string, after: Keyset | undefined, limit: number) {
    const params: unknown[] = [claims.sub, limit, conversationId]
    return this.db.asUser(claims, (tx) =>
      tx.query<Record<string, unknown> & { created_key: string }>(
        `select id, role, content, provider, model, input_tokens, output_tokens, created_at, ${KEY('created_at')}
           from public.conversation_messages
          where user_id = $1 and conversation_id = $3${keysetCondition(params, after, 'created_at, id', '>')}
          order by created_at, id limit $2`,
        params,
      ),
    )
  }

  /** The caller's activity events, oldest first (they can be many: paged like messages). */
  eventsPage(claims: JwtClaims, after: Keyset | undefined, limit: number) {
    const params: unknown[] = [claims.sub, limit]
    return this.db.asUser(claims, (tx) =>
      tx.query<Record<string, unknown> & { id: string; created_key: string }>(
        `select id, type, occurred_at, received_at, session_id, page, pillar_id, properties, ${KEY('occurred_at')}
           from public.events
          where user_id = $1${keysetCondition(params, after, 'occurred_at, id', '>')}
          order by occurred_at, id limit $2`,
        params,
      ),
    )
  }

  /** The caller's points ledger in award order. */
  pointsPage(claims: JwtClaims, after: Keyset | undefined, limit: number) {
    const params: unknown[] = [claims.sub, limit]
    const condition = keysetCondition(params, after, 'created_at, id', '>', 'bigint')
    return this.db.asUser(claims, (tx) =>
      tx.query<Record<string, unknown> & { id: string; created_key: string }>(
        `select id::text as id, points, reason, cause_key, pillar_id, created_at, ${KEY('created_at')}
           from public.points_ledger
          where user_id = $1${condition}
          order by created_at, id limit $2`,
        params,
      ),
    )
  }

  /** The caller's points summary (null before any award) and the badges they earned. */
  pointsOverview(claims: JwtClaims) {
    return this.db.asUser(claims, async (tx) => {
      const [summary] = await tx.query<Record<string, unknown>>(
        `select points, streak_current, streak_longest, last_active_date::text as last_active_date,
                leaderboard_opt_in, updated_at
           from public.points_summary where user_id = $1`,
        [claims.sub],
      )
      const badges = await tx.query<Record<string, unknown>>(
        `select badge_key, earned_at from public.user_badges where user_id = $1 order by earned_at, badge_key`,
        [claims.sub],
      )
      return { summary: summary ?? null, badges }
    })
  }

  /** Memberships, invitations to or from the caller, and round participation: small, one read. */
  teamData(claims: JwtClaims, email: string | undefined) {
    return this.db.asUser(claims, async (tx) => ({
      memberships: await tx.query<Record<string, unknown>>(
        `select m.team_id, t.name as team_name, m.role, m.joined_at
           from public.team_members m join public.teams t on t.id = m.team_id
          where m.user_id = $1 order by m.joined_at, m.team_id`,
        [claims.sub],
      ),
      invitations: await tx.query<Record<string, unknown>>(
        `select id, team_id, email, role, status, invited_by, expires_at, created_at, responded_at
           from public.team_invitations
          where email = lower($2) or invited_by = $1 order by created_at, id`,
        [claims.sub, email ?? null],
      ),
      round_participations: await tx.query<Record<string, unknown>>(
        `select round_id, assessment_id, created_at
           from public.team_round_participants where user_id = $1 order by created_at, round_id`,
        [claims.sub],
      ),
    }))
  }

  /**
   * What other tables keep that names the caller but RLS no longer shows them (a team they left
   * still has the invitations they sent and the rounds they opened), as ids and times only; read
   * as the service, filtered by the caller.
   */
  namedElsewhere(userId: string) {
    return this.db.asService(async (tx) => ({
      invitations_sent: await tx.query<Record<string, unknown>>(
        `select id, team_id, status, created_at from public.team_invitations
          where invited_by = $1 order by created_at, id`,
        [userId],
      ),
      rounds_opened: await tx.query<Record<string, unknown>>(
        'select id as round_id, team_id, created_at from public.team_rounds where created_by = $1 order by created_at, id',
        [userId],
      ),
    }))
  }

  /**
   * The account itself when auth.users is our own (local mode): the sign-up metadata and the
   * sessions (when, not their tokens). Read as the owner role, like AuthService writes it.
   */
  localAccount(userId: string) {
    return this.db.transaction(async (tx) => {
      const [user] = await tx.query<Record<string, unknown>>(
        `select email, raw_user_meta_data as user_metadata, created_at from auth.users where id = $1`,
        [userId],
      )
      const [exists] = await tx.query<{ present: boolean }>(
        `select to_regclass('auth.local_sessions') is not null as present`,
      )
      const sessions = exists?.present
        ? await tx.query<Record<string, unknown>>(
            `select id, created_at, refreshed_at, revoked_at, revoked_reason from auth.local_sessions
              where user_id = $1 order by created_at, id`,
            [userId],
          )
        : []
      return { ...(user ?? {}), sessions }
    })
  }

  // ---- deletion --------------------------------------------------------------------------------

  /**
   * Removes every row of the account in one transaction, or nothing: refused while the user
   * owns a team that has other members. Teams they own alone go with them. Each table is named
   * (so the deletion is complete even where auth.users is Supabase's and nothing cascades from
   * here); with our own auth.users its row goes last and every foreign key cascades from it,
   * including tables this list does not know.
   */
  async deleteAccount(
    userId: string,
    email: string | undefined,
    options: DeleteOptions,
  ): Promise<{ ok: true } | { ok: false; refusal: DeleteRefusal }> {
    // As the owner, so that our own auth.users row can go (service_role has no privilege on
    // it; AuthService adds rows the same way), and as service_role for everything else.
    return this.db.transaction(async (tx) => {
      await tx.query(`select set_config('role', 'service_role', true)`)
      // Locked like the join function locks them, so nobody joins a team between the check and
      // its deletion.
      // The lock first, the count in a statement of its own: a count in the locking statement
      // keeps that statement's snapshot, so a join that committed while the lock was awaited
      // would not be counted.
      const owned = await tx.query<{ id: string }>(
        'select t.id from public.teams t where t.owner_id = $1 order by t.id for update',
        [userId],
      )
      const [members] = await tx.query<{ others: number }>(
        `select count(*)::int as others from public.team_members m
          where m.team_id = any($1::uuid[]) and m.user_id <> $2`,
        [owned.map((team) => team.id), userId],
      )
      if (Number(members?.others ?? 0) > 0) return { ok: false, refusal: 'owns_team_with_members' }
      await this.#deleteRows(tx, userId, email)
      if (options.deleteAuthUser) {
        await tx.query('reset role')
        await tx.query('delete from auth.users where id = $1', [userId])
        await tx.query(`select set_config('role', 'service_role', true)`)
      }
      if (options.tombstone) {
        // clock_timestamp(): the moment of the deletion, not the transaction's start.
        await tx.query(
          `insert into public.auth_revoked_sessions (revocation_key, user_id, revoked_at, expires_at)
           values ($1, $2, clock_timestamp(), clock_timestamp() + make_interval(secs => $3))
           on conflict (revocation_key) do update set revoked_at = excluded.revoked_at, expires_at = excluded.expires_at`,
          [userRevocationKey(userId), userId, REVOCATION_RETENTION_SECONDS],
        )
      }
      return { ok: true }
    })
  }

  async #deleteRows(tx: Tx, userId: string, email: string | undefined) {
    await tx.query('delete from public.teams where owner_id = $1', [userId])
    if (email) await tx.query('delete from public.team_invitations where email = lower($1)', [email])
    // What others keep (their team's invitations and rounds) no longer names the user.
    await tx.query('update public.team_invitations set invited_by = null where invited_by = $1', [userId])
    await tx.query('update public.team_rounds set created_by = null where created_by = $1', [userId])
    // Usage records keep the spend figures but no longer carry the user's hash.
    await tx.query('update public.llm_usage set user_hash = null where user_hash = $1', [hashUserId(userId)])
    for (const table of [
      'user_badges',
      'points_summary',
      'points_ledger',
      'events',
      'team_round_participants',
      'team_members',
      'conversation_messages',
      'conversations',
      'assessment_sessions',
      'auth_revoked_sessions',
    ]) {
      await tx.query(`delete from public.${table} where user_id = $1`, [userId])
    }
    await tx.query('delete from public.user_profiles where id = $1', [userId])
  }
}
