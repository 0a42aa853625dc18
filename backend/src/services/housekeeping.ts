import type { Logger } from '@/lib/log'

/** One periodic clean-up: what it removed or changed, as numbers worth logging. */
export interface HousekeepingJob {
  name: string
  run(): Promise<Record<string, number>>
}

/**
 * The hourly in-process job: expired conversations removed, expired team invitations marked
 * (and month-old answered ones dropped), team rounds past their `closes_at` closed, long-ended
 * local sessions removed. Each job runs even when another fails; every instance may run them
 * (each step is idempotent).
 */
export class Housekeeping {
  #timer: Timer | undefined

  constructor(
    private readonly jobs: readonly HousekeepingJob[],
    private readonly logger: Logger,
  ) {}

  /**
   * Every job, one after another in the order given: a later job sees what an earlier one wrote
   * (the planner statistics come after the content index and the embeddings, so their writes
   * are counted this hour, not the next). A failed job is logged and the next one still runs.
   */
  async run(): Promise<void> {
    for (const { name: job, run } of this.jobs) {
      try {
        const result = await run()
        if (Object.values(result).some((n) => n > 0)) this.logger.info({ job, ...result }, 'housekeeping')
      } catch (error) {
        this.logger.error({ err: error, job }, 'housekeeping failed')
      }
    }
  }

  /** Runs one job by name now (start-up work that is also hourly). */
  async runJob(name: string): Promise<void> {
    const job = this.jobs.find((j) => j.name === name)
    if (job) await job.run()
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => void this.run(), everyMs)
    this.#timer.unref?.()
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
