import { GENEROUS_LIMITS } from '@tests/helpers/app'
import { freePort } from '@tests/helpers/ports'
import type { Subprocess } from 'bun'

export interface BenchServer {
  /** `http://127.0.0.1:<port>` */
  base: string
  process: Subprocess
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>
}

/**
 * The real server process for a benchmark, on a free loopback port, resolved once `/health`
 * answers. Logs are discarded so they do not compete with the measurement for the terminal.
 */
export async function spawnBenchServer(
  env: Record<string, string>,
  options: { cpus?: string } = {},
): Promise<BenchServer> {
  const port = freePort()
  // `cpus`: the server and every thread it starts run only there (taskset -c, e.g. "1").
  const command = ['bun', 'backend/src/index.ts']
  const child = Bun.spawn(options.cpus ? ['taskset', '-c', options.cpus, ...command] : command, {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...GENEROUS_LIMITS, ...env },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const base = `http://127.0.0.1:${port}`
  for (;;) {
    const up = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    await Bun.sleep(50)
  }
  return {
    base,
    process: child,
    async stop() {
      child.kill('SIGTERM')
      await child.exited
    },
  }
}
