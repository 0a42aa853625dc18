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

  async run(): Promise<void> {
    const results = await Promise.allSettled(this.jobs.map((job) => job.run()))
    for (const [i, result] of results.entries()) {
      const job = this.jobs[i]?.name
      if (result.status === 'rejected') this.logger.error({ err: result.reason, job }, 'housekeeping failed')
      else if (Object.values(result.value).some((n) => n > 0))
        this.logger.info({ job, ...result.value }, 'housekeeping')
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
