import { GENEROUS_LIMITS } from '@tests/helpers/app'
import { freePort } from '@tests/helpers/ports'
import type { Subprocess } from 'bun'

export interface ServerProcess {
  child: Subprocess<'ignore', 'pipe', 'pipe'>
  port: number
  baseUrl: string
  /** Parsed JSON log lines seen on stdout so far. */
  logs: Record<string, unknown>[]
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>
  exited: Promise<number>
}

/** Starts the real server (`bun backend/src/index.ts`) on a free loopback port. */
export async function startServer(
  env: Record<string, string>,
  readyTimeoutMs = 45_000,
): Promise<ServerProcess> {
  const port = freePort()
  const child = Bun.spawn(['bun', 'backend/src/index.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...GENEROUS_LIMITS,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
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
      for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line))
      for (const wake of waiters) wake()
    }
  })()

  const waitForLog: ServerProcess['waitForLog'] = (predicate, timeoutMs = 15_000) =>
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

  const server: ServerProcess = {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    waitForLog,
    exited: child.exited,
  }
  await Promise.race([
    waitForLog((l) => l.msg === 'listening', readyTimeoutMs),
    child.exited.then(async (code) => {
      throw new Error(`server exited with ${code}: ${await new Response(child.stderr).text()}`)
    }),
  ])
  return server
}
