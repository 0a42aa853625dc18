import { newApp } from '@/app'
import { describeModes, loadConfig } from '@/config'
import { buildContainer } from '@/container'
import { ForeignAuthUsersError } from '@/lib/db/bootstrap'
import { DataDirLockedError } from '@/lib/db/data-dir-lock'
import { DatabaseUnreachableError } from '@/lib/db/errors'
import { MigrationError } from '@/lib/db/migrations'
import { createLogger } from '@/lib/log'
import { superviseWorkers, WORKER_ENV } from '@/lib/workers'

// Process entry: config → services → Bun.serve → graceful shutdown.

const parsed = loadConfig(process.env)
if (!parsed.ok) {
  console.error(
    `Invalid configuration (${parsed.problems.length}):\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`,
  )
  process.exit(1)
}
const config = parsed.config
const workerId = process.env[WORKER_ENV]
const rootLogger = createLogger(config.LOG_LEVEL)
const logger = workerId === undefined ? rootLogger : rootLogger.child({ worker: Number(workerId) })
const isPrimary = config.WORKERS > 1 && workerId === undefined
logger.info({ modes: describeModes(config) }, isPrimary ? 'starting primary' : 'starting')

// A taken port must not be found only after a first start has spent seconds creating the
// database. (Someone may still take it in between: listen() below reports that the same way.)
// Workers share the port on purpose, and port 0 is always free.
if (workerId === undefined && config.PORT !== 0) {
  try {
    Bun.listen({ hostname: config.HOST, port: config.PORT, socket: { data() {} } }).stop(true)
  } catch (error) {
    exitPortUnavailable(error)
  }
}

const services = await buildContainer(config, logger).catch((error: unknown) => {
  if (error instanceof MigrationError) {
    logger.fatal(
      { file: error.file, postgres_error: error.postgresMessage },
      `migration ${error.file} failed`,
    )
  } else if (error instanceof DataDirLockedError) {
    logger.fatal({ data_dir: error.dataDir, holder_pid: error.pid }, error.message)
  } else if (error instanceof ForeignAuthUsersError) {
    logger.fatal(error.message)
  } else if (error instanceof DatabaseUnreachableError) {
    logger.fatal({ host: error.host, port: error.port, code: error.reason }, error.message)
  } else {
    logger.fatal({ err: error }, 'start-up failed')
  }
  process.exit(1)
})

if (isPrimary && !config.REDIS_URL) {
  logger.warn(
    { workers: config.WORKERS },
    'WORKERS without REDIS_URL: each worker limits rates and caches tokens on its own (limits are per worker, and a logout reaches other workers only when their cache entry expires)',
  )
}
if (isPrimary) {
  // Migrations and the knowledge seed ran once above, before any worker exists; the workers
  // then find nothing to do. The primary serves nothing itself.
  await services.close()
  const code = await superviseWorkers({
    workers: config.WORKERS,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    logger,
  })
  logger.info({ code }, 'primary stopped')
  process.exit(code)
}

const app = newApp(services)
// Hourly in process: expired conversations removed (also on demand by an admin), expired team
// invitations marked, rounds past closes_at closed (reads close them too).
services.housekeeping.start(60 * 60 * 1000)
const server = await listen()
services.metrics.readInFlightFrom(() => server.pendingRequests)
// Before the "listening" line: a supervisor that signals as soon as it reads it must meet our
// handler, not the default action (which would exit without closing PGlite).
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
logger.info({ url: server.url.href, port: server.port, version: services.version }, 'listening')
logger.info({ startup_ms: Math.round(performance.now()) }, banner(server.url))
// A few seconds after start, in the background, unless the server is already stopping: the seed
// pages (and a few published items whose indexing failed) into the knowledge base — the hourly
// job takes up to 100 an hour — and, on the embedded database, which has no autovacuum, planner
// statistics (without them a tag or full-text list over 10,000 items sorts every row: 18–98 ms
// instead of ~2 ms). Not at once: both are CPU work on this thread, and the first requests (and
// a quick SIGTERM's drain) must not wait behind them.
setTimeout(() => {
  if (services.lifecycle.draining) return
  void (async () => {
    await services.content.indexMissing(10)
    if (!services.lifecycle.draining) await services.housekeeping.runJob('planner statistics')
  })().catch((error: unknown) => logger.warn({ err: error }, 'start-up background work failed'))
}, 3_000).unref()

async function listen() {
  try {
    return Bun.serve({
      port: config.PORT,
      hostname: config.HOST,
      fetch: (request, bunServer) => app.fetch(request, { server: bunServer }),
      // Bun cuts a connection after 10 s without bytes. Ordinary requests get a generous 120 s
      // (HTTP_IDLE_TIMEOUT_SECONDS); a stream lifts the limit for its own request with
      // `server.timeout(req, 0)` and sets it back when it ends (lib/http/event-stream.ts).
      idleTimeout: config.http.idleTimeoutSeconds,
      // Out of the way on purpose: Bun answers a declared Content-Length above this cap itself,
      // with a bare 413 (no body, no X-Request-Id, no CORS headers, so a browser cannot read it).
      // The limit is BODY_LIMIT_BYTES, enforced in app.ts before anything is buffered: by
      // Content-Length before reading, and by counting a chunked body's bytes as they arrive.
      // A body nobody reads is drained by Bun as it arrives, never held in memory.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // One listener per port — a second copy on the same port must fail loudly, not share it —
      // except for workers, which share the port on purpose.
      reusePort: workerId !== undefined,
      development: false,
    })
  } catch (error) {
    await services.close()
    exitPortUnavailable(error)
  }
}

function exitPortUnavailable(error: unknown): never {
  const code = (error as { code?: string }).code
  const where = `${config.HOST}:${config.PORT}`
  logger.fatal(
    { port: config.PORT, host: config.HOST, code },
    code === 'EADDRINUSE'
      ? `cannot listen on ${where}: the port is in use (another copy of this server, or another program). Stop it or set PORT to a free port.`
      : `cannot listen on ${where} (${code ?? 'unknown error'})`,
  )
  process.exit(1)
}

/** The last start-up line: where to go next (a first start's output is long). */
function banner(url: URL): string {
  // 0.0.0.0 is where it listens, not an address to open.
  const shown = new URL(url)
  if (shown.hostname === '0.0.0.0' || shown.hostname === '[::]') shown.hostname = 'localhost'
  const base = shown.origin
  const access = services.localAccounts
    ? `a token: bun run token --email you@example.com, or sign up: POST ${base}/auth/v1/signup`
    : services.auth.mode === 'local'
      ? 'a token: bun run token --email you@example.com'
      : 'tokens: sign in with your Supabase project (supabase-js)'
  return `ready: ${base} · API reference ${base}/docs · ${access}`
}

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  services.lifecycle.startDraining()
  logger.info(
    { signal, timeout_ms: config.SHUTDOWN_TIMEOUT_MS },
    'shutting down: draining in-flight requests',
  )
  // stop(false): close the listener now, let in-flight requests (and streams) finish.
  const drained = server.stop(false).then(() => true)
  const deadline = new Promise<false>((resolve) =>
    setTimeout(() => resolve(false), config.SHUTDOWN_TIMEOUT_MS),
  )
  if (!(await Promise.race([drained, deadline]))) {
    logger.warn({ timeout_ms: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timeout: closing remaining connections')
    await server.stop(true)
  }
  try {
    // PGlite must be closed, or writes it has acknowledged can be lost.
    await services.close()
  } catch (error) {
    logger.error({ err: error }, 'error while closing services')
    process.exit(1)
  }
  logger.info('stopped')
  process.exit(0)
}
