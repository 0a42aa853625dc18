import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import { keysetCondition } from '@/lib/db/keyset'
import type { Keyset } from '@/lib/http/pagination'

export type TeamRole = 'owner' | 'admin' | 'member'

export interface TeamRow {
  id: string
  name: string
  description: string | null
  owner_id: string
  member_count: number
  my_role: TeamRole
  created_at: Date
  updated_at: Date
  /** The caller's `joined_at` (UTC, microseconds): the "my teams" keyset. */
  created_key: string
}

export interface MemberRow {
  user_id: string
  role: TeamRole
  joined_at: Date
  created_key: string
}

export interface InvitationRow {
  id: string
  team_id: string
  email: string
  role: 'admin' | 'member'
  status: 'pending' | 'accepted' | 'declined' | 'expired'
  invited_by: string | null
  expires_at: Date
  created_at: Date
  created_key: string
}

/** Why a team function refused, from its SQLSTATE (see the teams migration). */
export type TeamRefusal = 'not_found' | 'forbidden' | 'conflict'
const REFUSALS: Record<string, TeamRefusal> = { PT404: 'not_found', PT403: 'forbidden', PT409: 'conflict' }

/** The refusal a team function raised, or undefined when the error is something else. */
export const teamRefusal = (error: unknown): TeamRefusal | undefined => REFUSALS[sqlState(error) ?? '']

const KEY = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

// Column-listed: users hold SELECT on these columns of teams only (never the code's hash).
const TEAM_COLUMNS = `t.id, t.name, t.description, t.owner_id, t.created_at, t.updated_at,
  (select count(*)::int from public.team_members c where c.team_id = t.id) as member_count,
  m.role as my_role, ${KEY('m.joined_at')} as created_key`

const INVITATION_COLUMNS = `i.id, i.team_id, i.email, i.role, i.status, i.invited_by, i.expires_at, i.created_at,
  ${KEY('i.created_at')} as created_key`

/**
 * SQL for teams, members and invitations. Every method takes the transaction it runs in: the
 * service opens one per request as the user (RLS applies) and checks roles in it before acting,
 * so the check and the write see the same rows. Each query also names the caller or the team
 * explicitly — RLS is the second lock, not the only one.
 */
export class TeamStore {
  constructor(readonly db: Database) {}

  asUser<T>(claims: JwtClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.asUser(claims, fn)
  }

  /** The caller's role in the team, or undefined when they are not a member. */
  async role(tx: Tx, teamId: string, userId: string): Promise<TeamRole | undefined> {
    const [row] = await tx.query<{ role: TeamRole }>(
      'select role from public.team_members where team_id = $1 and user_id = $2',
      [teamId, userId],
    )
    return row?.role
  }

  async team(tx: Tx, teamId: string, userId: string): Promise<TeamRow | undefined> {
    const [row] = await tx.query<TeamRow>(
      `select ${TEAM_COLUMNS} from public.team_members m join public.teams t on t.id = m.team_id
        where m.team_id = $1 and m.user_id = $2`,
      [teamId, userId],
    )
    return row
  }

  /** The caller's teams, newest membership first; `limit + 1` rows. */
  async teams(tx: Tx, userId: string, limit: number, after?: Keyset): Promise<TeamRow[]> {
    const params: unknown[] = [userId, limit + 1]
    const where = `m.user_id = $1${keysetCondition(params, after, 'm.joined_at, m.team_id', '<')}`
    return tx.query<TeamRow>(
      `select ${TEAM_COLUMNS} from public.team_members m join public.teams t on t.id = m.team_id
        where ${where} order by m.joined_at desc, m.team_id desc limit $2`,
      params,
    )
  }

  async create(tx: Tx, name: string, description: string | null): Promise<string> {
    const [row] = await tx.query<{ id: string }>('select public.create_team($1, $2) as id', [
      name,
      description,
    ])
    if (!row) throw new Error('create_team returned no row')
    return row.id
  }

  async rename(
    tx: Tx,
    teamId: string,
    patch: { name?: string; description?: string | null },
  ): Promise<boolean> {
    const sets: string[] = []
    const params: unknown[] = [teamId]
    for (const [column, value] of Object.entries(patch)) {
      if (value === undefined) continue
      params.push(value)
      sets.push(`${column === 'name' ? 'name' : 'description'} = $${params.length}`)
    }
    if (sets.length === 0) return true
    const rows = await tx.query(
      `update public.teams set ${sets.join(', ')} where id = $1 returning id`,
      params,
    )
    return rows.length > 0
  }

  async remove(tx: Tx, teamId: string): Promise<boolean> {
    return (await tx.query('delete from public.teams where id = $1 returning id', [teamId])).length > 0
  }

  /** Members in join order; `limit + 1` rows. */
  async members(tx: Tx, teamId: string, limit: number, after?: Keyset): Promise<MemberRow[]> {
    const params: unknown[] = [teamId, limit + 1]
    const where = `team_id = $1${keysetCondition(params, after, 'joined_at, user_id', '>')}`
    return tx.query<MemberRow>(
      `select user_id, role, joined_at, ${KEY('joined_at')} as created_key from public.team_members
        where ${where} order by joined_at, user_id limit $2`,
      params,
    )
  }

  async member(tx: Tx, teamId: string, userId: string): Promise<MemberRow | undefined> {
    const [row] = await tx.query<MemberRow>(
      `select user_id, role, joined_at, ${KEY('joined_at')} as created_key from public.team_members
        where team_id = $1 and user_id = $2`,
      [teamId, userId],
    )
    return row
  }

  async setRole(tx: Tx, teamId: string, userId: string, role: 'admin' | 'member'): Promise<boolean> {
    const rows = await tx.query(
      `update public.team_members set role = $3 where team_id = $1 and user_id = $2 and role <> 'owner' returning user_id`,
      [teamId, userId, role],
    )
    return rows.length > 0
  }

  async removeMember(tx: Tx, teamId: string, userId: string): Promise<boolean> {
    const rows = await tx.query(
      `delete from public.team_members where team_id = $1 and user_id = $2 and role <> 'owner' returning user_id`,
      [teamId, userId],
    )
    return rows.length > 0
  }

  async transfer(tx: Tx, teamId: string, userId: string): Promise<void> {
    await tx.query('select public.transfer_team_ownership($1, $2)', [teamId, userId])
  }

  async rotateCode(tx: Tx, teamId: string): Promise<{ code: string; expires_at: Date }> {
    const [row] = await tx.query<{ code: string; expires_at: Date }>(
      'select code, expires_at from public.rotate_team_invite_code($1)',
      [teamId],
    )
    if (!row) throw new Error('rotate_team_invite_code returned no row')
    return row
  }

  async join(tx: Tx, code: string): Promise<string> {
    const [row] = await tx.query<{ id: string }>('select public.join_team($1) as id', [code])
    if (!row) throw new Error('join_team returned no row')
    return row.id
  }

  /** Display names for members, read as the service after the caller's membership was checked. */
  async displayNames(userIds: readonly string[]): Promise<Map<string, string | null>> {
    if (userIds.length === 0) return new Map()
    const rows = await this.db.asService((tx) =>
      tx.query<{ id: string; display_name: string | null }>(
        'select id, display_name from public.user_profiles where id = any($1::uuid[])',
        [userIds],
      ),
    )
    return new Map(rows.map((r) => [r.id, r.display_name]))
  }

  async invite(tx: Tx, teamId: string, email: string, role: 'admin' | 'member'): Promise<InvitationRow> {
    const [row] = await tx.query<InvitationRow>(
      `insert into public.team_invitations as i (team_id, email, role) values ($1, $2, $3)
       returning ${INVITATION_COLUMNS}`,
      [teamId, email, role],
    )
    if (!row) throw new Error('insert returned no row')
    return row
  }

  /** Whether someone with this e-mail is already in the team (read as the service). */
  async isMemberEmail(teamId: string, email: string): Promise<boolean> {
    const rows = await this.db.asService((tx) =>
      tx.query(
        `select 1 from public.team_members m join public.user_profiles p on p.id = m.user_id
          where m.team_id = $1 and lower(p.email) = $2`,
        [teamId, email],
      ),
    )
    return rows.length > 0
  }

  async invitations(tx: Tx, teamId: string, limit: number, after?: Keyset): Promise<InvitationRow[]> {
    const params: unknown[] = [teamId, limit + 1]
    const where = `i.team_id = $1${keysetCondition(params, after, 'i.created_at, i.id', '<')}`
    return tx.query<InvitationRow>(
      `select ${INVITATION_COLUMNS} from public.team_invitations i where ${where}
        order by i.created_at desc, i.id desc limit $2`,
      params,
    )
  }

  async revoke(tx: Tx, teamId: string, invitationId: string): Promise<boolean> {
    const rows = await tx.query(
      'delete from public.team_invitations where id = $1 and team_id = $2 returning id',
      [invitationId, teamId],
    )
    return rows.length > 0
  }

  /** Pending, unexpired invitations addressed to `email`, newest first. */
  async invitationsFor(tx: Tx, email: string): Promise<InvitationRow[]> {
    return tx.query<InvitationRow>(
      `select ${INVITATION_COLUMNS} from public.team_invitations i
        where i.email = $1 and i.status = 'pending' and i.expires_at > now()
        order by i.created_at desc, i.id desc limit 100`,
      [email],
    )
  }

  async invitationFor(tx: Tx, invitationId: string, email: string): Promise<InvitationRow | undefined> {
    const [row] = await tx.query<InvitationRow>(
      `select ${INVITATION_COLUMNS} from public.team_invitations i
        where i.id = $1 and i.email = $2 and i.status in ('pending', 'expired')`,
      [invitationId, email],
    )
    return row
  }

  async accept(tx: Tx, invitationId: string): Promise<string> {
    const [row] = await tx.query<{ id: string }>('select public.accept_team_invitation($1) as id', [
      invitationId,
    ])
    if (!row) throw new Error('accept_team_invitation returned no row')
    return row.id
  }

  async decline(tx: Tx, invitationId: string, email: string): Promise<boolean> {
    const rows = await tx.query(
      `update public.team_invitations set status = 'declined', responded_at = now()
        where id = $1 and email = $2 and status = 'pending' and expires_at > now() returning id`,
      [invitationId, email],
    )
    return rows.length > 0
  }

  /** Team names and inviter names for the invitee's list (read as the service: they are not members yet). */
  async invitationLabels(
    teamIds: readonly string[],
    inviterIds: readonly string[],
  ): Promise<{ teams: Map<string, string>; inviters: Map<string, string | null> }> {
    return this.db.asService(async (tx) => {
      const teams = await tx.query<{ id: string; name: string }>(
        'select id, name from public.teams where id = any($1::uuid[])',
        [teamIds],
      )
      const inviters = await tx.query<{ id: string; display_name: string | null }>(
        'select id, display_name from public.user_profiles where id = any($1::uuid[])',
        [inviterIds],
      )
      return {
        teams: new Map(teams.map((t) => [t.id, t.name])),
        inviters: new Map(inviters.map((p) => [p.id, p.display_name])),
      }
    })
  }

  /** Writes TEAM_MAX_MEMBERS and TEAM_MIN_RESULTS where the SQL functions read them. */
  async saveSettings(maxMembers: number, minResults: number): Promise<void> {
    await this.db.asService((tx) =>
      tx.query(
        `insert into public.team_settings (id, max_members, min_results, updated_at) values (true, $1, $2, now())
         on conflict (id) do update set max_members = excluded.max_members, min_results = excluded.min_results,
           updated_at = now()
         where team_settings.max_members <> excluded.max_members or team_settings.min_results <> excluded.min_results`,
        [maxMembers, minResults],
      ),
    )
  }

  /** The hourly job: expired invitations marked (and old answered ones removed), due rounds closed. */
  async housekeeping(): Promise<{ invitations: number; rounds: number }> {
    return this.db.asService(async (tx) => {
      const [invitations] = await tx.query<{ n: number }>('select public.expire_team_invitations() as n')
      const [rounds] = await tx.query<{ n: number }>('select public.settle_team_rounds(null) as n')
      return { invitations: Number(invitations?.n ?? 0), rounds: Number(rounds?.n ?? 0) }
    })
  }

  /** True when the error is the unique index on pending invitations. */
  static isDuplicate(error: unknown): boolean {
    return sqlState(error) === '23505'
  }
}
