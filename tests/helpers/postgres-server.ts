import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@tests/helpers/ports'

export interface PostgresServer {
  url: string
  stop(): Promise<void>
}

/** The newest Debian PostgreSQL server binaries, if installed (package `postgresql`). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] ? join(root, versions[0], 'bin') : undefined
}

async function run(command: string[], asUser?: string) {
  const argv = asUser ? ['runuser', '-u', asUser, '--', ...command] : command
  const child = Bun.spawn(argv, { stdout: 'pipe', stderr: 'pipe' })
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
  if (code !== 0) throw new Error(`${command[0]} exited ${code}: ${stderr}`)
}

/**
 * A throwaway PostgreSQL cluster on a free loopback port (trust auth, fsync off), for tests
 * that need real concurrent connections. No pgvector here: only migrations without vectors
 * can run on it. As root it runs as the `postgres` user, since Postgres refuses root.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir()
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install -y postgresql)')
  const dir = mkdtempSync(join(tmpdir(), 'pilar-pg-'))
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined
  if (asUser) {
    const { uid, gid } = await Bun.$`id -u postgres && id -g postgres`.text().then((out) => {
      const [u, g] = out.trim().split('\n').map(Number)
      return { uid: u ?? 0, gid: g ?? 0 }
    })
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  const port = freePort()
  await run(
    [join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
    asUser,
  )
  await run(
    [
      join(bin, 'pg_ctl'),
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`,
      'start',
    ],
    asUser,
  )
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], asUser).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Whether PostgreSQL's binaries are here; under CI their absence is a failure, not a skip. */
export function requirePostgresInCi(): boolean {
  const available = postgresBinDir() !== undefined
  if (!available && process.env.CI === 'true') {
    throw new Error('CI needs the postgresql package (.ci/run installs it)')
  }
  return available
}
