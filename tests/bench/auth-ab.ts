import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import pino from 'pino'

/**
 * bun run bench auth-ab [--base REV] [--rounds 16] [--requests 10000]
 *
 * The auth hot path of this tree against another revision's, side by side in ONE process:
 * `GET /api/v1/auth/me` with a cached local token and `GET /health`, in process (app.request,
 * logging to /dev/null; CPU time per request, not wall time), alternating the two apps round by
 * round so both meet the same drift of this noisy machine. The other revision is checked out with `git worktree` into a temporary
 * folder (sharing this node_modules) and removed afterwards; each tree's `@/` imports resolve
 * through its own tsconfig.json.
 */
const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD~1' },
    rounds: { type: 'string', default: '16' },
    requests: { type: 'string', default: '10000' },
  },
})
const ROUNDS = Number(args.rounds)
const REQUESTS = Number(args.requests)
const here = resolve(import.meta.dir, '../..')
const secret = 'bench-local-secret-0123456789-abcdefgh'
const RAISED_LIMITS = Object.fromEntries(
  ['API', 'ANON', 'AI', 'AUTH_FAILURES', 'INGEST'].map((name) => [`RATE_LIMIT_${name}`, '1000000']),
)

const git = (...argv: string[]) => {
  const run = Bun.spawnSync(['git', ...argv], { cwd: here })
  if (run.exitCode !== 0) throw new Error(`git ${argv.join(' ')}: ${run.stderr.toString()}`)
  return run.stdout.toString().trim()
}
const baseRev = git('rev-parse', '--short', args.base ?? 'HEAD~1')
const baseDir = join(mkdtempSync(join(tmpdir(), 'pilar-ab-')), 'tree')
git('worktree', 'add', '--detach', baseDir, baseRev)
symlinkSync(join(here, 'node_modules'), join(baseDir, 'node_modules'))

interface Built {
  name: string
  request: (path: string) => Promise<Response>
}

/** The app of one tree over its own in-memory database, with a cached token. */
async function build(name: string, tree: string): Promise<Built> {
  const src = join(tree, 'backend/src')
  const { loadConfig } = await import(join(src, 'config.ts'))
  const { newApp } = await import(join(src, 'app.ts'))
  // Older revisions named the container module services.ts.
  const container = await import(join(src, 'container.ts')).catch(() => import(join(src, 'services.ts')))
  const buildAll = container.buildContainer ?? container.buildServices
  const { bootstrap } = await import(join(src, 'lib/db/bootstrap.ts'))
  const { withRoles } = await import(join(src, 'lib/db/database.ts'))
  const { migrate, readMigrations } = await import(join(src, 'lib/db/migrations.ts'))
  const { openPglite } = await import(join(src, 'lib/db/pglite.ts'))
  const { createLogger } = await import(join(src, 'lib/log.ts'))
  const { signLocalToken } = await import(join(src, 'lib/auth/local-tokens.ts'))
  // Limits raised so nothing is refused: the limiter runs, and the answer is the real 200.
  const parsed = loadConfig({ DATA_DIR: ':memory:', LOCAL_JWT_SECRET: secret, ...RAISED_LIMITS })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  const driver = await openPglite(':memory:')
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(join(tree, 'supabase/migrations')))
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: true }))
  const app = newApp(await buildAll(parsed.config, logger, { db }))
  const token = await signLocalToken(secret, { email: 'bench@example.test', ttlSeconds: 3_600 })
  const init = { headers: { authorization: `Bearer ${token}` } }
  const request = (path: string) => Promise.resolve(app.request(`http://bench${path}`, init))
  for (const path of ['/health', '/api/v1/auth/me']) {
    const status = (await request(path)).status
    if (status !== 200) throw new Error(`${name}: ${path} answered ${status}`)
  }
  return { name, request }
}

/**
 * CPU µs of this process per request (user + system, all threads): unlike wall time it leaves
 * out the time the hypervisor gives another guest (these machines' "steal"), which moved a
 * run's /health by 15 % between two apps of the same code.
 */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}

async function microseconds(app: Built, path: string) {
  const started = cpuMicros()
  for (let i = 0; i < REQUESTS; i++) {
    const response = await app.request(path)
    if (response.status !== 200) throw new Error(`${app.name}: ${path} answered ${response.status}`)
    await response.arrayBuffer()
  }
  return (cpuMicros() - started) / REQUESTS
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

try {
  const apps = [await build(`base ${baseRev}`, baseDir), await build('this tree', here)]
  for (const app of apps) {
    await microseconds(app, '/health')
    await microseconds(app, '/api/v1/auth/me')
  }
  const seen = new Map(apps.map((app) => [app.name, { health: [] as number[], me: [] as number[] }]))
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which app goes first, so neither always runs on a warmer (or busier) machine.
    for (const app of round % 2 ? apps : [...apps].reverse()) {
      const s = seen.get(app.name)
      s?.health.push(await microseconds(app, '/health'))
      s?.me.push(await microseconds(app, '/api/v1/auth/me'))
    }
  }
  console.log(
    `auth hot path, CPU µs per request in process (median of ${ROUNDS} alternating rounds of ${REQUESTS})`,
  )
  for (const [name, s] of seen) {
    const h = median(s.health)
    const m = median(s.me)
    console.log(
      `  ${name.padEnd(14)} GET /health ${h.toFixed(2)} µs   GET /api/v1/auth/me ${m.toFixed(2)} µs   ratio of rates ${(h / m).toFixed(3)}`,
    )
  }
} finally {
  git('worktree', 'remove', '--force', baseDir)
  rmSync(resolve(baseDir, '..'), { recursive: true, force: true })
}
process.exit(0)
