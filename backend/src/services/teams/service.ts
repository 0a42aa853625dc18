import type { AuthUser } from '@/lib/auth/types'
import type { Tx } from '@/lib/db/database'
import { conflict, forbidden, notFound } from '@/lib/errors/domain'
import { decodeCursor, pageOf } from '@/lib/http/pagination'
import {
  type MemberRow,
  type TeamRole,
  type TeamRow,
  type TeamStore,
  teamRefusal,
} from '@/services/teams/store'

const iso = (value: Date | string) => new Date(value).toISOString()

export const presentTeam = (row: TeamRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  owner_id: row.owner_id,
  member_count: row.member_count,
  my_role: row.my_role,
  created_at: iso(row.created_at),
  updated_at: iso(row.updated_at),
})
export type Team = ReturnType<typeof presentTeam>

export interface Member {
  user_id: string
  display_name: string | null
  role: TeamRole
  joined_at: string
}

/** Who may do what: the roles API.md gives each action. */
export const MANAGERS: readonly TeamRole[] = ['owner', 'admin']
export const OWNER: readonly TeamRole[] = ['owner']

/**
 * Turns a refusal a team SQL function raised into the domain error; anything else is rethrown.
 * The functions are the database's own check of what the service checked first.
 */
export function rethrowRefusal(error: unknown, what: string, conflictMessage = 'The team is full'): never {
  const refusal = teamRefusal(error)
  if (refusal === 'not_found') throw notFound(what)
  if (refusal === 'forbidden') throw forbidden('Your role in this team does not allow this')
  if (refusal === 'conflict') throw conflict(conflictMessage)
  throw error
}

/** Teams, their members and the invite code: every rule checked here first, then by the database. */
export class TeamService {
  constructor(private readonly store: TeamStore) {}

  /**
   * Runs `fn` as the user once their role in the team is known and allowed: not a member → 404
   * (exactly like a missing team), a member without the role → 403.
   */
  async withRole<T>(
    user: AuthUser,
    teamId: string,
    allowed: readonly TeamRole[] | 'any',
    fn: (tx: Tx, role: TeamRole) => Promise<T>,
  ): Promise<T> {
    return this.store.asUser(user.claims, async (tx) => {
      const role = await this.store.role(tx, teamId, user.id)
      if (!role) throw notFound('Team')
      if (allowed !== 'any' && !allowed.includes(role))
        throw forbidden('Your role in this team does not allow this')
      return fn(tx, role)
    })
  }

  async create(user: AuthUser, input: { name: string; description?: string | null }): Promise<Team> {
    return this.store.asUser(user.claims, async (tx) => {
      const id = await this.store.create(tx, input.name, input.description ?? null)
      return this.#read(tx, id, user)
    })
  }

  async list(user: AuthUser, query: { limit: number; cursor?: string }) {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const rows = await this.store.asUser(user.claims, (tx) =>
      this.store.teams(tx, user.id, query.limit, after),
    )
    return pageOf(rows, query.limit, (row) => row.id, presentTeam)
  }

  async get(user: AuthUser, teamId: string): Promise<Team> {
    return this.withRole(user, teamId, 'any', (tx) => this.#read(tx, teamId, user))
  }

  async update(
    user: AuthUser,
    teamId: string,
    patch: { name?: string; description?: string | null },
  ): Promise<Team> {
    return this.withRole(user, teamId, MANAGERS, async (tx) => {
      if (!(await this.store.rename(tx, teamId, patch))) throw notFound('Team')
      return this.#read(tx, teamId, user)
    })
  }

  async remove(user: AuthUser, teamId: string): Promise<void> {
    await this.withRole(user, teamId, OWNER, async (tx) => {
      if (!(await this.store.remove(tx, teamId))) throw notFound('Team')
    })
  }

  async members(user: AuthUser, teamId: string, query: { limit: number; cursor?: string }) {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const rows = await this.withRole(user, teamId, 'any', (tx) =>
      this.store.members(tx, teamId, query.limit, after),
    )
    const names = await this.store.displayNames(rows.slice(0, query.limit).map((r) => r.user_id))
    return pageOf(
      rows,
      query.limit,
      (row) => row.user_id,
      (row) => presentMember(row, names),
    )
  }

  /** The owner makes a member an admin or an admin a member; the owner's own role only moves by transfer. */
  async setRole(user: AuthUser, teamId: string, memberId: string, role: 'admin' | 'member'): Promise<Member> {
    const updated = await this.withRole(user, teamId, OWNER, async (tx) => {
      const member = await this.store.member(tx, teamId, memberId)
      if (!member) throw notFound('Member')
      if (member.role === 'owner') throw conflict('The owner’s role changes only by transferring the team')
      if (!(await this.store.setRole(tx, teamId, memberId, role))) throw notFound('Member')
      const row = await this.store.member(tx, teamId, memberId)
      if (!row) throw notFound('Member')
      return row
    })
    return presentMember(updated, await this.store.displayNames([memberId]))
  }

  /**
   * Removes a member (owner: anyone; admin: plain members) or leaves (oneself). The owner can
   * neither leave nor be removed: 409, transfer the team first.
   */
  async removeMember(user: AuthUser, teamId: string, memberId: string): Promise<void> {
    await this.withRole(user, teamId, 'any', async (tx, myRole) => {
      const member = await this.store.member(tx, teamId, memberId)
      if (!member) throw notFound('Member')
      if (member.role === 'owner') {
        throw conflict('The owner cannot leave or be removed; transfer the team to another member first')
      }
      const leaving = memberId === user.id
      const allowed = leaving || myRole === 'owner' || (myRole === 'admin' && member.role === 'member')
      if (!allowed) throw forbidden('Your role in this team does not allow removing this member')
      if (!(await this.store.removeMember(tx, teamId, memberId))) throw notFound('Member')
    })
  }

  async transfer(user: AuthUser, teamId: string, newOwnerId: string): Promise<Team> {
    return this.withRole(user, teamId, OWNER, async (tx) => {
      if (!(await this.store.member(tx, teamId, newOwnerId))) throw notFound('Member')
      try {
        await this.store.transfer(tx, teamId, newOwnerId)
      } catch (error) {
        rethrowRefusal(error, 'Member')
      }
      return this.#read(tx, teamId, user)
    })
  }

  async rotateCode(user: AuthUser, teamId: string): Promise<{ code: string; expires_at: string }> {
    return this.withRole(user, teamId, MANAGERS, async (tx) => {
      try {
        const { code, expires_at } = await this.store.rotateCode(tx, teamId)
        return { code, expires_at: iso(expires_at) }
      } catch (error) {
        rethrowRefusal(error, 'Team')
      }
    })
  }

  /** Joins by invite code; already a member → the same answer. Unknown or expired → 404, full → 409. */
  async join(user: AuthUser, code: string): Promise<Team> {
    return this.store.asUser(user.claims, async (tx) => {
      let teamId: string
      try {
        teamId = await this.store.join(tx, normalizeCode(code))
      } catch (error) {
        rethrowRefusal(error, 'Invite code', 'The team is full')
      }
      return this.#read(tx, teamId, user)
    })
  }

  /** The team as the caller sees it (inside a transaction where they are known to be a member). */
  async #read(tx: Tx, teamId: string, user: AuthUser): Promise<Team> {
    const row = await this.store.team(tx, teamId, user.id)
    if (!row) throw notFound('Team')
    return presentTeam(row)
  }
}

/** Codes are shown in upper case; people type them in any case, with spaces or dashes. */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase()
}

export const presentMember = (row: MemberRow, names: Map<string, string | null>): Member => ({
  user_id: row.user_id,
  display_name: names.get(row.user_id) ?? null,
  role: row.role,
  joined_at: iso(row.joined_at),
})
