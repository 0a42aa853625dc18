import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort } from '@tests/helpers/ports'
import { spawnLogged } from '@tests/helpers/server-process'

/**
 * bun run bench dev-reload [--reloads 10] [--modes dev,watch] [--touch backend/src/lib/lru-ttl.ts]
 *
 * The dev loop, side by side: `dev` is what `bun run dev` runs (backend/src/cli/dev.ts, a
 * supervisor that restarts the server as a new process once the old one has stopped); `watch`
 * is `bun --watch backend/src/index.ts`, what it ran before (and `hot`, `bun --hot`, before
 * that). Each mode gets its own new DATA_DIR, so reload 0 is a first start. Then RELOADS times a
 * watched file is rewritten and the bench waits for the next "listening" line. A reload is clean
 * only if: the old server logged "stopped" (which it does after closing PGlite) before the new
 * one logged "starting", the new server is a NEW process, GET /health answers 200, and nothing
 * was logged at error or fatal. Per reload: the server's resident memory (VmRSS) and, for `dev`,
 * the supervisor's own.
 *
 * What is rewritten: `watch` and `hot` follow the server's import graph, so they need a real
 * source file (`--touch`, rewritten with its own bytes: Bun reacts to writes, not to `touch`).
 * `dev` watches a scratch folder (`--watch`) unless `--touch` is given, so by default this bench
 * edits nothing in the repository for it; the restart path is the same. A reload that does not
 * come back within 60 s ends that mode.
 */
const { values: args } = parseArgs({
  options: {
    reloads: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'dev,watch' },
    touch: { type: 'string' },
  },
})
type Mode = 'dev' | 'watch' | 'hot'
const RELOADS = Number(args.reloads)
const MODES = String(args.modes).split(',') as Mode[]
const REPO = join(import.meta.dir, '../..')
const TOUCH = args.touch ?? 'backend/src/lib/lru-ttl.ts'
// The server's own background work (content indexing, planner statistics) starts 3 s after
// "listening"; memory is read a moment after the line, before it.
const SETTLE_MS = 500

type Line = Record<string, unknown>
interface Row {
  reload: number
  pid: number
  newProcess: boolean
  /** The previous server's "stopped" before this one's "starting". */
  stoppedFirst: boolean
  seconds: number
  rssMb: number
  supervisorRssMb: number | undefined
  health: number
  problems: string[]
}

function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024)
  } catch {
    return Number.NaN
  }
}

async function run(mode: Mode): Promise<Row[]> {
  const dataDir = mkdtempSync(join(tmpdir(), `pilar-dev-${mode}-`))
  const scratch = mkdtempSync(join(tmpdir(), 'pilar-dev-watch-'))
  let file = join(REPO, TOUCH)
  const command = ['bun', `--${mode}`, 'backend/src/index.ts']
  if (mode === 'dev') {
    command.splice(1, 2, 'backend/src/cli/dev.ts')
    if (!args.touch) {
      mkdirSync(join(scratch, 'lib'))
      file = join(scratch, 'lib/lru-ttl.ts')
      cpSync(join(REPO, TOUCH), file)
      command.push('--watch', scratch)
    }
  }
  const port = freePort()
  const spawned = spawnLogged(command, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  })
  const { child } = spawned
  const lines: Line[] = spawned.logs
  const stderr: string[] = []
  void (async () => {
    for await (const chunk of child.stderr) stderr.push(new TextDecoder().decode(chunk))
  })()

  const rows: Row[] = []
  let previousPid: number | undefined
  try {
    for (let reload = 0; reload <= RELOADS; reload++) {
      const from = lines.length
      const started = performance.now()
      if (reload > 0) writeFileSync(file, readFileSync(file))
      const deadline = started + 60_000
      let listening: Line | undefined
      while (!listening && performance.now() < deadline && child.exitCode === null) {
        await Bun.sleep(20)
        listening = lines.slice(from).find((l) => l.msg === 'listening')
      }
      if (!listening) {
        const tail = lines.slice(from).map((l) => l.msg)
        console.log(
          `  ${mode}: reload ${reload} did not come back (exit ${child.exitCode}); log since: ${JSON.stringify(tail.slice(-6))}${stderr.length ? `; stderr: ${stderr.join('').slice(-400)}` : ''}`,
        )
        break
      }
      const seconds = (performance.now() - started) / 1000
      await Bun.sleep(SETTLE_MS)
      const pid = Number(listening.pid)
      const since = lines.slice(from)
      const stopped = since.findIndex((l) => l.pid === previousPid && l.msg === 'stopped')
      const starting = since.findIndex((l) => l.pid === pid && l.msg === 'starting')
      const health = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      )
      rows.push({
        reload,
        pid,
        newProcess: previousPid === undefined || pid !== previousPid,
        stoppedFirst: previousPid === undefined || (stopped >= 0 && stopped < starting),
        seconds,
        rssMb: rssMb(pid),
        supervisorRssMb: mode === 'dev' ? rssMb(child.pid) : undefined,
        health,
        problems: since.filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => String(l.msg)),
      })
      previousPid = pid
    }
  } finally {
    child.kill('SIGTERM')
    await Promise.race([child.exited, Bun.sleep(15_000)])
    child.kill('SIGKILL')
    // dev's server is in a process group of its own and would outlive a killed supervisor.
    if (previousPid !== undefined && previousPid !== child.pid) {
      try {
        process.kill(previousPid, 'SIGKILL')
      } catch {}
    }
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(scratch, { recursive: true, force: true })
  }
  return rows
}

const COMMANDS: Record<Mode, string> = {
  dev: 'bun run dev (backend/src/cli/dev.ts)',
  watch: 'bun --watch backend/src/index.ts',
  hot: 'bun --hot backend/src/index.ts',
}
const yes = (ok: boolean) => (ok ? 'yes' : 'NO')
const results: [Mode, Row[]][] = []
for (const mode of MODES) {
  const what = mode === 'dev' && !args.touch ? 'a file in a scratch --watch folder' : TOUCH
  console.log(`\n## ${COMMANDS[mode]}: first start, then ${RELOADS} reloads (rewriting ${what})\n`)
  console.log(
    'reload  pid      new pid  stopped first  to "listening"  server RSS  supervisor RSS  /health  errors',
  )
  const rows = await run(mode)
  for (const r of rows) {
    console.log(
      [
        String(r.reload).padStart(6),
        String(r.pid).padEnd(8),
        (r.reload === 0 ? '-' : yes(r.newProcess)).padStart(7),
        (r.reload === 0 ? '-' : yes(r.stoppedFirst)).padStart(13),
        `${r.seconds.toFixed(1)} s`.padStart(14),
        `${r.rssMb} MB`.padStart(10),
        (r.supervisorRssMb === undefined ? '-' : `${r.supervisorRssMb} MB`).padStart(14),
        String(r.health).padStart(7),
        r.problems.length ? r.problems.join('; ') : '-',
      ].join('  '),
    )
  }
  results.push([mode, rows])
}

console.log('\n## summary\n')
let failed = false
for (const [mode, rows] of results) {
  const after = rows.filter((r) => r.reload > 0)
  const clean = after.filter((r) => r.newProcess && r.stoppedFirst && r.health === 200 && !r.problems.length)
  const ok = after.length === RELOADS && clean.length === RELOADS
  // `dev` is what `bun run dev` runs: a reload that was not clean there fails this run.
  if (mode === 'dev' && !ok) failed = true
  const first = rows[0]
  const last = after.at(-1)
  const supervisor =
    mode === 'dev' && first && last
      ? `; supervisor RSS ${first.supervisorRssMb} → ${last.supervisorRssMb} MB`
      : ''
  console.log(
    `${COMMANDS[mode]}: ${clean.length}/${RELOADS} reloads clean (stopped before the next start: ${after.filter((r) => r.stoppedFirst).length}, new process: ${after.filter((r) => r.newProcess).length}, /health 200: ${after.filter((r) => r.health === 200).length}); server RSS after the first start ${first?.rssMb ?? '?'} MB, after the last reload ${last?.rssMb ?? '?'} MB (max ${Math.max(...after.map((r) => r.rssMb))} MB)${supervisor}; reload to "listening": median ${median(after.map((r) => r.seconds)).toFixed(1)} s`,
  )
}
process.exit(failed ? 1 : 0)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}
