import { existsSync, type FSWatcher, watch, writeSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Subprocess } from 'bun'
import { loadConfig } from '@/config'
import { createLogger, type Logger, type LogLevel } from '@/lib/log'

// `bun run dev [--watch DIR]…`: the server restarted on every change to its sources, one process
// per change, each closed properly before the next one opens the data directory.
//
// Not `bun --watch`: on a change Bun runs our SIGTERM handler and ~30 ms later restarts the same
// process without waiting for it, so the async shutdown (PGlite close, usage flush, housekeeping
// stop) never finished and in-flight requests were cut. Not `bun --hot` either: it re-runs
// start-up inside one process, opening PGlite again without closing it (RSS 310 → 800 MB after
// two reloads). Here the server is a child process: on a change it gets SIGTERM, and the next
// one starts only after it has exited — after its "stopped" line, so after PGlite is closed.

const REPO = resolve(import.meta.dir, '../../..')
const ENTRY = join(REPO, 'backend/src/index.ts')
const DEFAULT_WATCH = ['backend/src', 'supabase/migrations'].map((dir) => join(REPO, dir))
/** Editors write a file as a burst of events (temp file, rename, chmod): one restart per burst. */
const DEBOUNCE_MS = 150
/** Editor droppings that are not sources: swap and backup files, vim's write probe, emacs locks. */
const IGNORED = /(^|\/)(\.#[^/]*|[^/]*~|[^/]*\.sw[a-p]|4913|[^/]*\.tmp)$/
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }

type Child = Subprocess<'ignore', 'pipe', 'inherit'>

export interface DevOptions {
  /** Directories whose changes (recursively) restart the server. */
  watch: string[]
  logger: Logger
  /** The level the user asked for: the server's lines below it are not shown. */
  logLevel: LogLevel
  /** How long a stopping server may take before it is killed: a little over its own drain timeout. */
  stopTimeoutMs: number
}

export interface DevSupervisor {
  /** Resolves with the exit code once the server has stopped after `shutdown`. */
  done: Promise<number>
  /** Stops the server (properly) and then the supervisor; a second call kills the server. */
  shutdown(reason: string): void
}

/**
 * Starts the server as a child process and restarts it, one at a time, when a watched file
 * changes. A server that exits on its own (a crash, a syntax error) stays down until the next
 * change — fixing the file is what restarts it, never a loop.
 */
export function superviseDev(options: DevOptions): DevSupervisor {
  const { logger } = options
  const minLevel = LEVELS[options.logLevel] ?? Number.POSITIVE_INFINITY
  let child: Child | undefined
  /** All of the current child's stdout copied out: its last lines come before what follows. */
  let forwarded: Promise<void> = Promise.resolve()
  /** Its "listening" line seen: index.ts installs its signal handlers just before that line. */
  let ready = false
  /** A change while the server was still starting: restart once it is up (or has exited). */
  let changedWhileStarting = false
  let restarting: Promise<void> | undefined
  let shuttingDown = false
  let finish: (code: number) => void = () => {}
  const done = new Promise<number>((resolveDone) => {
    finish = resolveDone
  })

  const start = () => {
    ready = false
    changedWhileStarting = false
    const started: Child = Bun.spawn([process.execPath, ENTRY], {
      // The server must log "listening" for us to know it can take a signal: below info it
      // would not, so it runs at info and we drop what the user did not ask to see.
      env: { ...process.env, LOG_LEVEL: minLevel > LEVELS.info! ? 'info' : options.logLevel },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'inherit',
      // Its own process group, so a Ctrl-C in the terminal reaches only us and we pass it on
      // once the server can take it: sent straight to a server still opening the database (no
      // handler yet), SIGINT would kill it in the middle.
      detached: true,
    })
    child = started
    forwarded = forward(started, minLevel, () => {
      ready = true
      if (changedWhileStarting) void restart('(changed while starting)')
    })
    logger.info({ server_pid: started.pid }, 'dev: server started')
    void started.exited.then(async (code) => {
      await forwarded
      if (restarting || shuttingDown) return
      if (child === started) child = undefined
      if (changedWhileStarting) return start()
      logger.error({ server_pid: started.pid, code }, 'dev: the server exited; the next change restarts it')
    })
  }

  /** SIGTERM once it can take one, then wait for the exit and its last lines; kill past the timeout. */
  const stop = async (target: Child) => {
    const began = performance.now()
    while (!ready && target.exitCode === null && target.signalCode === null) {
      await Promise.race([target.exited, Bun.sleep(50)])
    }
    target.kill('SIGTERM')
    const killer = setTimeout(() => {
      logger.warn({ server_pid: target.pid }, 'dev: the server did not stop in time: killing it')
      target.kill('SIGKILL')
    }, options.stopTimeoutMs)
    const code = await target.exited
    clearTimeout(killer)
    await forwarded
    if (child === target) child = undefined
    logger.info(
      { server_pid: target.pid, code, stop_ms: Math.round(performance.now() - began) },
      'dev: server stopped',
    )
    return code
  }

  const restart = async (file: string) => {
    if (shuttingDown || restarting) return
    const current = child
    if (!current) {
      logger.info({ file }, 'dev: change detected: starting the server')
      return start()
    }
    if (!ready) {
      changedWhileStarting = true
      return
    }
    logger.info({ file, server_pid: current.pid }, 'dev: change detected: restarting the server')
    restarting = stop(current).then(() => {})
    await restarting
    restarting = undefined
    if (!shuttingDown) start()
  }

  let timer: ReturnType<typeof setTimeout> | undefined
  const watchers: FSWatcher[] = options.watch.map((dir) =>
    watch(dir, { recursive: true }, (_event, name) => {
      const file = shown(name ? join(dir, String(name)) : dir)
      if (IGNORED.test(file)) return
      clearTimeout(timer)
      timer = setTimeout(() => void restart(file), DEBOUNCE_MS)
    }),
  )
  logger.info({ watch: options.watch.map(shown) }, 'dev: watching for changes')

  const shutdown = (reason: string) => {
    if (shuttingDown) {
      child?.kill('SIGKILL')
      return
    }
    shuttingDown = true
    clearTimeout(timer)
    for (const watcher of watchers) watcher.close()
    logger.info({ reason }, 'dev: stopping')
    void (async () => {
      if (restarting) await restarting
      const current = child
      // Already down (it crashed, or a restart had just stopped it): nothing left to stop.
      if (!current || current.exitCode !== null || current.signalCode !== null) return finish(0)
      finish(await stop(current))
    })()
  }

  start()
  return { done, shutdown }
}

/** Inside the repository relative to it, elsewhere (a test's temp dir) absolute. */
function shown(path: string): string {
  const inRepo = relative(REPO, path)
  return inRepo.startsWith('..') ? path : inRepo
}

/**
 * Copies the child's stdout to ours in whole lines (so our own lines never land inside one of
 * its), written synchronously as pino writes ours; drops lines below `minLevel`; calls
 * `onListening` at the "listening" line.
 */
async function forward(child: Child, minLevel: number, onListening: () => void) {
  const decoder = new TextDecoder()
  const filtering = minLevel > LEVELS.info!
  let buffered = ''
  let listening = false
  const keep = (line: string): boolean => {
    // Parsed only when it matters: until "listening", and when filtering by level.
    if (!filtering && (listening || !line.includes('"listening"'))) return true
    let entry: { msg?: unknown; level?: unknown }
    try {
      entry = JSON.parse(line)
    } catch {
      return true
    }
    if (!listening && entry.msg === 'listening') {
      listening = true
      onListening()
    }
    return (LEVELS[String(entry.level)] ?? Number.POSITIVE_INFINITY) >= minLevel
  }
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true })
    const end = buffered.lastIndexOf('\n')
    if (end < 0) continue
    const kept = buffered.slice(0, end).split('\n').filter(keep)
    buffered = buffered.slice(end + 1)
    if (kept.length) writeSync(1, `${kept.join('\n')}\n`)
  }
  if (buffered && keep(buffered)) writeSync(1, `${buffered}\n`)
}

if (import.meta.main) {
  const USAGE =
    'Usage: bun run dev [--watch DIR]…   (default: --watch backend/src --watch supabase/migrations)'
  const fail = (message: string): never => {
    console.error(`${message}\n${USAGE}`)
    process.exit(1)
  }
  const { values } = (() => {
    try {
      return parseArgs({
        options: {
          watch: { type: 'string', multiple: true },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      })
    } catch (error) {
      return fail(error instanceof Error ? error.message : String(error))
    }
  })()
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const watchDirs = values.watch?.length ? values.watch.map((dir) => resolve(dir)) : DEFAULT_WATCH
  for (const dir of watchDirs) if (!existsSync(dir)) fail(`--watch ${dir}: no such directory`)
  // An invalid configuration is the server's to report (it names every bad variable); we only
  // need a log level and how long a server may take to stop.
  const parsed = loadConfig(process.env)
  const logLevel = parsed.ok ? parsed.config.LOG_LEVEL : 'info'
  const supervisor = superviseDev({
    watch: watchDirs,
    logger: createLogger(logLevel),
    logLevel,
    stopTimeoutMs: (parsed.ok ? parsed.config.SHUTDOWN_TIMEOUT_MS : 10_000) + 5_000,
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => supervisor.shutdown(signal))
  }
  process.exit(await supervisor.done)
}
