import type { Subprocess } from 'bun'
import type { Logger } from '@/lib/log'

/** Set in a worker's environment: which slot it fills (0-based). Absent in the primary. */
export const WORKER_ENV = 'PILAR_WORKER_ID'

export interface SupervisorOptions {
  workers: number
  /** How long a stopping worker may drain before it is killed (a little over its own timeout). */
  shutdownTimeoutMs: number
  logger: Logger
  /** A worker that dies this many times within `crashWindowMs` is not restarted again. */
  maxCrashes?: number
  crashWindowMs?: number
}

/**
 * `WORKERS=N`: this (primary) process starts N copies of the server that all listen on the same
 * port (`reusePort`; the kernel spreads connections across them) and looks after them: a worker
 * that dies is restarted, one that keeps crashing stops the whole group with exit code 1, and
 * SIGTERM/SIGINT are passed on so every worker drains before the primary exits.
 * Resolves with the exit code the primary should end with.
 */
export function superviseWorkers(options: SupervisorOptions): Promise<number> {
  const { logger } = options
  const maxCrashes = options.maxCrashes ?? 5
  const crashWindowMs = options.crashWindowMs ?? 60_000
  const children = new Map<number, Subprocess>()
  const crashes = new Map<number, number[]>()
  let stopping = false
  let exitCode = 0
  let finish: (code: number) => void = () => {}
  const finished = new Promise<number>((resolve) => {
    finish = resolve
  })

  const start = (slot: number) => {
    const child = Bun.spawn([process.execPath, Bun.main], {
      env: { ...process.env, [WORKER_ENV]: String(slot) },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    children.set(slot, child)
    logger.info({ worker: slot, worker_pid: child.pid }, 'worker started')
    void child.exited.then((code) => {
      children.delete(slot)
      if (stopping) {
        if (code !== 0) exitCode = 1
        logger.info({ worker: slot, code }, 'worker stopped')
        if (children.size === 0) finish(exitCode)
        return
      }
      const now = Date.now()
      const recent = [...(crashes.get(slot) ?? []).filter((t) => now - t < crashWindowMs), now]
      crashes.set(slot, recent)
      if (recent.length >= maxCrashes) {
        logger.fatal(
          { worker: slot, code, crashes: recent.length },
          'worker keeps crashing: stopping all workers',
        )
        exitCode = 1
        stop('crash loop')
        return
      }
      logger.error({ worker: slot, code }, 'worker exited unexpectedly: restarting it')
      setTimeout(() => {
        if (!stopping) start(slot)
      }, 500 * recent.length)
    })
  }

  const stop = (reason: string) => {
    if (stopping) return
    stopping = true
    logger.info({ reason, workers: children.size }, 'stopping workers')
    if (children.size === 0) finish(exitCode)
    for (const child of children.values()) child.kill('SIGTERM')
    // A worker that does not finish draining in time is killed; its exit is then non-zero.
    setTimeout(() => {
      for (const child of children.values()) child.kill('SIGKILL')
    }, options.shutdownTimeoutMs + 5_000).unref()
  }

  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  for (let slot = 0; slot < options.workers; slot++) start(slot)
  return finished
}
