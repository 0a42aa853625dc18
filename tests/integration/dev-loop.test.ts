import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { freePort } from '@tests/helpers/ports'
import { type LoggedProcess, spawnLogged } from '@tests/helpers/server-process'
import { METRICS_TOKEN, openSlowUpload, waitForInFlight } from '@tests/helpers/slow-upload'

// `bun run dev` (backend/src/cli/dev.ts) on a copy of a prepared data directory. It watches a
// temporary folder (`--watch`), never the repository's sources, which this test must not edit;
// the server it restarts is still the real backend/src/index.ts.
// The reload that `bun --watch` got wrong: the old server's "stopped" (logged after PGlite is
// closed) must come before the new server's "starting", in a new process, with what the old one
// wrote still there and a request that was in flight answered, not cut.

type Line = Record<string, unknown>
let dataDir: string
let watchDir: string
let watched: string
let dev: LoggedProcess
let baseUrl: string
let port: number
let lines: Line[] = []

/** The first line matching `predicate` (`what` names it if none comes). */
async function waitFor(predicate: (line: Line) => boolean, what: string, timeoutMs = 10_000): Promise<Line> {
  return dev.waitForLog(predicate, timeoutMs).catch(() => {
    throw new Error(`no ${what} within ${timeoutMs} ms; saw ${tail()}`)
  })
}

function tail(): string {
  return JSON.stringify(lines.slice(-6).map((l) => `${l.pid} ${l.msg}`))
}

/** Rewrites the watched file (a change, as an editor's save is). */
function edit() {
  writeFileSync(watched, `${readFileSync(watched, 'utf8')}\n// edited ${Date.now()}\n`)
}

const indexOf = (pid: unknown, msg: string) => lines.findIndex((l) => l.pid === pid && l.msg === msg)

beforeAll(async () => {
  dataDir = await preparedDataDir()
  watchDir = mkdtempSync(join(tmpdir(), 'pilar-dev-watch-'))
  // A nested file: the watch is recursive, as over backend/src.
  mkdirSync(join(watchDir, 'lib'))
  watched = join(watchDir, 'lib/lru-ttl.ts')
  cpSync(join(import.meta.dir, '../../backend/src/lib/lru-ttl.ts'), watched)
  port = freePort()
  baseUrl = `http://127.0.0.1:${port}`
  dev = spawnLogged(['bun', 'backend/src/cli/dev.ts', '--watch', watchDir], {
    ...LOCAL_AUTH,
    METRICS_TOKEN,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  })
  lines = dev.logs
  await waitFor((l) => l.msg === 'listening', 'first "listening"', 45_000)
}, DB_SETUP_TIMEOUT_MS)

afterAll(() => {
  dev?.child.kill('SIGKILL')
  // Its server is in a process group of its own, so it outlives a killed supervisor: after a
  // failure, kill any server the supervisor did not see end.
  const ended = new Set(
    lines
      .filter((l) => l.msg?.toString().startsWith('dev: ') && l.code !== undefined)
      .map((l) => l.server_pid),
  )
  for (const line of lines) {
    if (line.msg !== 'dev: server started' || ended.has(line.server_pid)) continue
    try {
      process.kill(Number(line.server_pid), 'SIGKILL')
    } catch {}
  }
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(watchDir, { recursive: true, force: true })
})

describe('bun run dev', () => {
  let user: TestUser
  let firstPid: unknown
  let serverPid: unknown

  test('a change restarts the server in a new process, after the old one has closed the database', async () => {
    user = await newUser()
    firstPid = lines.find((l) => l.msg === 'listening')?.pid
    const write = await fetch(`${baseUrl}/api/v1/users/me`, {
      method: 'PATCH',
      headers: { ...user.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Written before the reload' }),
    })
    expect(write.status).toBe(200)
    const upload = await openSlowUpload(port)
    await waitForInFlight(baseUrl, 2) // the upload, and the scrape itself

    edit()
    await waitFor(
      (l) => l.pid === firstPid && l.msg === 'shutting down: draining in-flight requests',
      'drain',
    )
    // In flight across the reload, and held for a while: the old server waits for it before it
    // closes the database, and a supervisor that did not wait for the old server would have the
    // new one "starting" (~0.7 s after its spawn) before the old one's "stopped".
    await Bun.sleep(1_000)
    expect(await upload.finish()).toStartWith('HTTP/1.1 404')
    const listening = await waitFor((l) => l.msg === 'listening' && l.pid !== firstPid, 'a new "listening"')
    serverPid = listening.pid

    expect(serverPid).not.toBe(firstPid)
    const stopped = indexOf(firstPid, 'stopped')
    expect(stopped).toBeGreaterThan(-1)
    expect(stopped).toBeLessThan(indexOf(serverPid, 'starting'))
    const exit = lines.findIndex((l) => l.msg === 'dev: server stopped' && l.server_pid === firstPid)
    expect(lines[exit]?.code).toBe(0)
    expect(exit).toBeLessThan(
      lines.findIndex((l) => l.msg === 'dev: server started' && l.server_pid === serverPid),
    )

    expect((await fetch(`${baseUrl}/health`)).status).toBe(200)
    const read = await fetch(`${baseUrl}/api/v1/users/me`, { headers: user.headers })
    expect(((await read.json()) as { profile: { display_name: string } }).profile.display_name).toBe(
      'Written before the reload',
    )
  }, 30_000)

  test('a server that dies stays down until the next change, which starts it again', async () => {
    process.kill(Number(serverPid), 'SIGKILL')
    await waitFor((l) => l.msg === 'dev: the server exited; the next change restarts it', 'the exit')
    const startsBefore = lines.filter((l) => l.msg === 'dev: server started').length
    // Far longer than the debounce and any restart back-off a loop would use.
    await Bun.sleep(500)
    expect(lines.filter((l) => l.msg === 'dev: server started').length).toBe(startsBefore)
    expect(
      await fetch(`${baseUrl}/health`).then(
        (r) => r.status,
        () => 0,
      ),
    ).toBe(0)

    edit()
    const started = await waitFor(
      (l) => l.msg === 'dev: server started' && l.server_pid !== firstPid && l.server_pid !== serverPid,
      'a start after the change',
    )
    serverPid = started.server_pid
  }, 30_000)

  test('SIGTERM to the supervisor, even while the server starts, stops the server properly first', async () => {
    // Straight away: the server has no SIGTERM handler yet, so the supervisor must hold the
    // signal until its "listening" line, not kill it while it opens the database.
    dev.child.kill('SIGTERM')
    expect(await dev.exited).toBe(0)
    expect(indexOf(serverPid, 'listening')).toBeGreaterThan(-1)
    expect(indexOf(serverPid, 'stopped')).toBeGreaterThan(indexOf(serverPid, 'listening'))
  }, 30_000)
})
