import type { Router } from '@/routes/router'
import { createRouter } from '@/routes/router'
import { registerGetTeamAnalytics } from '@/routes/teams/analytics'
import { registerCreateTeam } from '@/routes/teams/create'
import { registerDeleteTeam } from '@/routes/teams/delete'
import { registerGetTeam } from '@/routes/teams/get'
import { registerAcceptInvitation } from '@/routes/teams/invitation-accept'
import { registerDeclineInvitation } from '@/routes/teams/invitation-decline'
import { registerRevokeTeamInvitation } from '@/routes/teams/invitation-revoke'
import { registerListTeamInvitations } from '@/routes/teams/invitations'
import { registerInviteToTeam } from '@/routes/teams/invite'
import { registerRotateTeamInviteCode } from '@/routes/teams/invite-code'
import { registerJoinTeam } from '@/routes/teams/join'
import { registerListTeams } from '@/routes/teams/list'
import { registerRemoveTeamMember } from '@/routes/teams/member-remove'
import { registerSetTeamMemberRole } from '@/routes/teams/member-role'
import { registerListTeamMembers } from '@/routes/teams/members'
import { registerListMyInvitations } from '@/routes/teams/my-invitations'
import { registerCloseTeamRound } from '@/routes/teams/round-close'
import { registerCreateTeamRound } from '@/routes/teams/round-create'
import { registerGetTeamRound } from '@/routes/teams/round-get'
import { registerListTeamRounds } from '@/routes/teams/round-list'
import { registerParticipateInTeamRound } from '@/routes/teams/round-participate'
import { registerGetTeamRoundResults } from '@/routes/teams/round-results'
import { registerTransferTeam } from '@/routes/teams/transfer'
import { registerUpdateTeam } from '@/routes/teams/update'

const register: ((router: Router) => unknown)[] = [
  // /join before /{id}: registration order is matching order.
  registerJoinTeam,
  registerCreateTeam,
  registerListTeams,
  registerGetTeam,
  registerUpdateTeam,
  registerDeleteTeam,
  registerListTeamMembers,
  registerSetTeamMemberRole,
  registerRemoveTeamMember,
  registerTransferTeam,
  registerRotateTeamInviteCode,
  registerInviteToTeam,
  registerListTeamInvitations,
  registerRevokeTeamInvitation,
  registerListMyInvitations,
  registerAcceptInvitation,
  registerDeclineInvitation,
  registerCreateTeamRound,
  registerListTeamRounds,
  registerGetTeamRound,
  registerParticipateInTeamRound,
  registerCloseTeamRound,
  registerGetTeamRoundResults,
  registerGetTeamAnalytics,
]

/** Teams, members, invitations (both sides), rounds, results and team analytics. */
export const teamRoutes = createRouter()
for (const add of register) add(teamRoutes)
