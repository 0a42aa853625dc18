import { join } from 'node:path'
import { GENEROUS_LIMITS } from '@tests/helpers/app'
import { freePort } from '@tests/helpers/ports'
import type { Subprocess } from 'bun'

export interface ServerProcess extends LoggedProcess {
  port: number
  baseUrl: string
}

export interface LoggedProcess {
  child: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Parsed JSON log lines seen on stdout so far. */
  logs: Record<string, unknown>[]
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>
  exited: Promise<number>
}

/**
 * Spawns `command` (a `bun …` of this repository: the server, the dev supervisor) in the
 * repository with a minimal environment plus `env`, collecting the JSON lines it logs on stdout.
 */
export function spawnLogged(command: string[], env: Record<string, string>): LoggedProcess {
  const child = Bun.spawn(command, {
    cwd: join(import.meta.dir, '../..'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...GENEROUS_LIMITS, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const logs: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  void (async () => {
    let buffered = ''
    for await (const chunk of child.stdout) {
      buffered += new TextDecoder().decode(chunk)
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        // Not every line that starts with a brace is ours (a runtime's own output): skip those.
        try {
          logs.push(JSON.parse(line))
        } catch {}
      }
      for (const wake of waiters) wake()
    }
  })()

  const waitForLog: LoggedProcess['waitForLog'] = (predicate, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = logs.find(predicate)
        if (!hit) return false
        waiters.delete(check)
        clearTimeout(timer)
        resolve(hit)
        return true
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(
          new Error(`no matching log line within ${timeoutMs} ms; saw: ${JSON.stringify(logs.slice(-5))}`),
        )
      }, timeoutMs)
      if (!check()) waiters.add(check)
    })

  return { child, logs, waitForLog, exited: child.exited }
}

/** Starts the real server (`bun backend/src/index.ts`) on a free loopback port. */
export async function startServer(
  env: Record<string, string>,
  readyTimeoutMs = 45_000,
): Promise<ServerProcess> {
  // A caller that needs the port before the start (a Prometheus config) passes PORT itself.
  const port = Number(env.PORT) || freePort()
  const spawned = spawnLogged(['bun', 'backend/src/index.ts'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    ...env,
  })
  const server: ServerProcess = { ...spawned, port, baseUrl: `http://127.0.0.1:${port}` }
  await Promise.race([
    spawned.waitForLog((l) => l.msg === 'listening', readyTimeoutMs),
    spawned.exited.then(async (code) => {
      throw new Error(`server exited with ${code}: ${await new Response(spawned.child.stderr).text()}`)
    }),
  ])
  return server
}
