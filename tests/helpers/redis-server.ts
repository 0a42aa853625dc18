import { freePort } from '@tests/helpers/ports'

export interface RedisServer {
  url: string
  port: number
  /** Stops the server (SIGKILL: an outage, not a tidy shutdown). */
  stop(): Promise<void>
  /** Starts it again on the same port, empty (as after a crash without persistence). */
  start(): Promise<void>
}

/** Whether `redis-server` is installed (Debian package `redis-server`). */
export function redisAvailable(): boolean {
  return Bun.which('redis-server') !== null
}

/** Fails the run under CI (where `.ci/run` installs Redis) instead of skipping quietly. */
export function requireRedisInCi(): boolean {
  const available = redisAvailable()
  if (!available && process.env.CI === 'true') {
    throw new Error('CI needs redis-server (.ci/run installs the Debian package)')
  }
  return available
}

async function waitForPort(port: number, deadlineMs: number) {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    const up = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } }).then(
      (socket) => {
        socket.end()
        return true
      },
      () => false,
    )
    if (up) return
    await Bun.sleep(20)
  }
  throw new Error(`redis-server did not listen on ${port} within ${deadlineMs} ms`)
}

/** A throwaway `redis-server` on a free loopback port, without persistence. */
export async function startRedis(options: { cpus?: string } = {}): Promise<RedisServer> {
  const port = freePort()
  let child: ReturnType<typeof Bun.spawn> | undefined
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const command = [
        'redis-server',
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
      ]
      // `cpus`: run it only there (taskset -c), as a benchmark that pins its processes asks.
      child = Bun.spawn(options.cpus ? ['taskset', '-c', options.cpus, ...command] : command, {
        stdout: 'ignore',
        stderr: 'inherit',
      })
      await waitForPort(port, 5_000)
    },
    async stop() {
      if (!child) return
      child.kill('SIGKILL')
      await child.exited
      child = undefined
    },
  }
  await server.start()
  return server
}
