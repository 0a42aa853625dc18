import type { AuthUser } from '@/lib/auth/types'
import { conflict, notFound } from '@/lib/errors/domain'
import { decodeCursor, pageOf } from '@/lib/http/pagination'
import { MANAGERS, rethrowRefusal, type Team, type TeamService } from '@/services/teams/service'
import { type InvitationRow, TeamStore } from '@/services/teams/store'

const iso = (value: Date | string) => new Date(value).toISOString()

export const presentInvitation = (row: InvitationRow) => ({
  id: row.id,
  team_id: row.team_id,
  email: row.email,
  role: row.role,
  // An invitation past its expiry reads as expired before the hourly job marks it so.
  status:
    row.status === 'pending' && new Date(row.expires_at) <= new Date() ? ('expired' as const) : row.status,
  invited_by: row.invited_by,
  expires_at: iso(row.expires_at),
  created_at: iso(row.created_at),
})

/**
 * E-mail invitations: owners and admins invite an address for 7 days and may revoke; the person
 * whose token carries that address sees, accepts or declines it. Anyone else gets 404.
 */
export class InvitationService {
  constructor(
    private readonly store: TeamStore,
    private readonly teams: TeamService,
  ) {}

  async invite(user: AuthUser, teamId: string, input: { email: string; role?: 'admin' | 'member' }) {
    const email = input.email.trim().toLowerCase()
    // The role first (a non-member must learn nothing, not even who is in the team), then the
    // member check as the service (users cannot read teammates' e-mails), then the insert.
    await this.teams.withRole(user, teamId, MANAGERS, async () => {})
    if (await this.store.isMemberEmail(teamId, email))
      throw conflict('Someone with this e-mail is already a member')
    return this.teams.withRole(user, teamId, MANAGERS, async (tx) => {
      try {
        return presentInvitation(await this.store.invite(tx, teamId, email, input.role ?? 'member'))
      } catch (error) {
        if (TeamStore.isDuplicate(error))
          throw conflict('This e-mail already has a pending invitation to the team')
        throw error
      }
    })
  }

  async list(user: AuthUser, teamId: string, query: { limit: number; cursor?: string }) {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const rows = await this.teams.withRole(user, teamId, MANAGERS, (tx) =>
      this.store.invitations(tx, teamId, query.limit, after),
    )
    return pageOf(rows, query.limit, (row) => row.id, presentInvitation)
  }

  async revoke(user: AuthUser, teamId: string, invitationId: string): Promise<void> {
    await this.teams.withRole(user, teamId, MANAGERS, async (tx) => {
      if (!(await this.store.revoke(tx, teamId, invitationId))) throw notFound('Invitation')
    })
  }

  /** Pending invitations addressed to the caller's token e-mail, with the team's and inviter's names. */
  async mine(user: AuthUser) {
    const email = user.email?.toLowerCase()
    if (!email) return { data: [] }
    const rows = await this.store.asUser(user.claims, (tx) => this.store.invitationsFor(tx, email))
    const labels = await this.store.invitationLabels(
      rows.map((r) => r.team_id),
      rows.flatMap((r) => (r.invited_by ? [r.invited_by] : [])),
    )
    return {
      data: rows.map((row) => ({
        ...presentInvitation(row),
        team_name: labels.teams.get(row.team_id) ?? '',
        invited_by_name: row.invited_by ? (labels.inviters.get(row.invited_by) ?? null) : null,
      })),
    }
  }

  /** Accepts: not addressed to the caller (or revoked) → 404, expired → 409, team full → 409. */
  async accept(user: AuthUser, invitationId: string): Promise<Team> {
    const email = user.email?.toLowerCase()
    if (!email) throw notFound('Invitation')
    const teamId = await this.store.asUser(user.claims, async (tx) => {
      const invitation = await this.store.invitationFor(tx, invitationId, email)
      if (!invitation) throw notFound('Invitation')
      if (presentInvitation(invitation).status === 'expired') throw conflict('The invitation has expired')
      try {
        return await this.store.accept(tx, invitationId)
      } catch (error) {
        rethrowRefusal(error, 'Invitation', 'The team is full, or the invitation has expired')
      }
    })
    return this.teams.get(user, teamId)
  }

  async decline(user: AuthUser, invitationId: string): Promise<void> {
    const email = user.email?.toLowerCase()
    if (!email) throw notFound('Invitation')
    await this.store.asUser(user.claims, async (tx) => {
      const invitation = await this.store.invitationFor(tx, invitationId, email)
      if (!invitation) throw notFound('Invitation')
      if (presentInvitation(invitation).status === 'expired') throw conflict('The invitation has expired')
      if (!(await this.store.decline(tx, invitationId, email))) throw notFound('Invitation')
    })
  }
}
