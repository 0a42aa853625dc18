import type { Logger } from '@/lib/log'
import type { ConversationService } from '@/services/conversations/service'
import type { TeamStore } from '@/services/teams/store'

/**
 * The hourly in-process job: expired conversations removed, expired team invitations marked
 * (and month-old answered ones dropped), team rounds past their `closes_at` closed. Each part
 * runs even when another fails; every instance may run it (each step is idempotent).
 */
export class Housekeeping {
  #timer: Timer | undefined

  constructor(
    private readonly conversations: ConversationService,
    private readonly teams: TeamStore,
    private readonly logger: Logger,
  ) {}

  async run(): Promise<void> {
    const results = await Promise.allSettled([this.conversations.cleanup(), this.teams.housekeeping()])
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') {
        this.logger.error(
          { err: result.reason, job: i === 0 ? 'conversations' : 'teams' },
          'housekeeping failed',
        )
      }
    }
    const teams = results[1]
    if (teams.status === 'fulfilled' && (teams.value.invitations > 0 || teams.value.rounds > 0)) {
      this.logger.info(teams.value, 'team invitations expired and rounds closed')
    }
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => void this.run(), everyMs)
    this.#timer.unref?.()
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
