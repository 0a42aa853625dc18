import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from '@tests/bench/stats'
import { GENEROUS_LIMITS } from '@tests/helpers/app'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { freePort } from '@tests/helpers/ports'
import { signLocalToken } from '@/lib/auth/local-tokens'

/**
 * bun run bench auth-ir [--stores 'limiter off,memory'] [--warmup 20000] [--requests 8000]
 *                       [--phases 5] [--in-flight 16]
 *
 * Instructions per request of GET /health and GET /api/v1/auth/me (a cached token) on the real
 * server process under valgrind's callgrind: counted rather than timed, so the machine's
 * drifting speed — which moves `bench auth --part b` by tens of percent between rounds — does
 * not move them as it moves times (they still spread by up to ≈ 16,000, ≈ 12 %, between
 * phases; why was not measured). The server runs uninstrumented through start-up and a
 * warm-up (so its JIT tiers up), then each phase counts `--requests` of one endpoint, then of
 * the other (the order alternates). Counted: user-space instructions only (the kernel's share of a request — the
 * socket calls, page faults after the allocator's madvise — is not), per thread; the figures
 * are the main (JavaScript) thread's, split into JIT-compiled code and the rest of Bun (its
 * runtime, interpreter, GC, HTTP server), beside every thread's. Not a time: valgrind's CPU has
 * no SHA extensions, so hashing runs in software here (one symbol-less native function of about
 * 17,000 instructions per `/auth/me` is, by its size, probably the token's SHA-256, ≈ 0.5 µs on a
 * machine with SHA-NI). The configurations run at once to halve the wall time; how the two share
 * the cores may move the counts too (four configurations at once shifted one by ≈ 10 %; with
 * two, by how much was not measured).
 */
const { values: args } = parseArgs({
  options: {
    stores: { type: 'string', default: 'limiter off,memory' },
    warmup: { type: 'string', default: '20000' },
    requests: { type: 'string', default: '8000' },
    // Odd, so the median is one phase's figure, not the lower of the two middle ones.
    phases: { type: 'string', default: '5' },
    'in-flight': { type: 'string', default: '16' },
  },
})
/** A count option: a whole number ≥ 1, or the bench stops before starting anything. */
function count(option: 'warmup' | 'requests' | 'phases' | 'in-flight'): number {
  const value = Number(args[option])
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${option} must be a whole number ≥ 1`)
  return value
}
const WARMUP = count('warmup')
const REQUESTS = count('requests')
const PHASES = count('phases')
const IN_FLIGHT = count('in-flight')
const SECRET = 'bench-local-secret-0123456789-abcdefgh'

/** The configurations compared (as in `bench auth`: limits raised so nothing is refused). */
const CONFIGS: Record<string, Record<string, string>> = {
  'limiter off': { RATE_LIMIT_ENABLED: 'false' },
  memory: { ...GENEROUS_LIMITS, RATE_LIMIT_STORE: 'memory' },
}

/** `n` keep-alive requests to `url`, `IN_FLIGHT` at a time; throws on any answer but 200. */
async function load(url: string, n: number, token?: string) {
  const init = token ? { headers: { authorization: `Bearer ${token}` } } : {}
  let next = 0
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < n) {
        const response = await fetch(url, init)
        await response.arrayBuffer()
        if (response.status !== 200) throw new Error(`${url} answered ${response.status}`)
      }
    }),
  )
}

/** Instructions in one callgrind dump file, split by where they ran. */
interface Counted {
  jit: number
  bun: number
  other: number
}

/**
 * A command's exit code and everything it printed; async, so the other configuration's load
 * goes on meanwhile (a synchronous spawn would stall it inside a counted phase).
 */
async function run(command: string[], env?: Record<string, string | undefined>) {
  const child = Bun.spawn(command, { env, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, exitCode }
}

/**
 * The instructions of a dump file by object: JIT code has no file behind it (`???`), `bun` is
 * the executable itself. From callgrind_annotate's per-function lines (no source annotation),
 * which must add up to the file's total: a line this parser did not recognise would otherwise
 * go uncounted without a word.
 */
async function countedIn(file: string): Promise<Counted> {
  const annotated = await run([
    'callgrind_annotate',
    '--auto=no',
    '--threshold=100',
    '--show-percs=yes',
    file,
  ])
  if (annotated.exitCode !== 0) throw new Error(`callgrind_annotate ${file}: ${annotated.stderr}`)
  const counted: Counted = { jit: 0, bun: 0, other: 0 }
  let listing = false
  for (const line of annotated.stdout.split('\n')) {
    if (line.includes('file:function')) listing = true
    // The object in brackets is absent for code callgrind knows only by its source (inlined
    // code of a library with debug info): counted with the libraries.
    const match = listing ? /^\s*([\d,]+)\s+\([^)]*\)\s+.*?(?:\[([^\]]*)\])?\s*$/.exec(line) : null
    if (!match?.[1]) continue
    const ir = Number(match[1].replaceAll(',', ''))
    const object = match[2]
    if (object === '???') counted.jit += ir
    else if (object?.endsWith('/bun') || object?.endsWith('/bun.exe')) counted.bun += ir
    else counted.other += ir
  }
  const total = totalIn(file)
  const sum = counted.jit + counted.bun + counted.other
  if (Math.abs(sum - total) > total * 0.001) {
    throw new Error(`${file}: its functions add up to ${sum} instructions, its total is ${total}`)
  }
  return counted
}

/** The `totals:` line of a dump file (every event of that thread in that dump). */
function totalIn(file: string): number {
  const total = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8'))?.[1]
  if (total === undefined) throw new Error(`${file} has no totals line`)
  return Number(total)
}

interface Phase {
  endpoint: 'health' | 'me'
  main: Counted
  /** Every thread's instructions (JIT compiler and GC threads too). */
  all: number
}

/** A configuration that stopped because the other one failed: not a failure of its own. */
class Stopped extends Error {}

/**
 * One configuration: its server under callgrind, warmed up, then counted phase by phase. Stops
 * between phases once `stop` is aborted (the other configuration failed), rather than running
 * minutes more for a result that will not be printed.
 */
async function countConfig(
  name: string,
  env: Record<string, string>,
  template: string,
  token: string,
  stop: AbortSignal,
) {
  const dir = mkdtempSync(join(tmpdir(), 'pilar-bench-ir-'))
  const out = mkdtempSync(join(tmpdir(), 'pilar-bench-ir-out-'))
  cpSync(template, dir, { recursive: true })
  const port = freePort()
  // callgrind_control finds the server through files named after USER and HOST, so it is given
  // the very environment the server has (HOST is also the server's listen address).
  const serverEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    USER: process.env.USER ?? 'bench',
    DATA_DIR: dir,
    LOCAL_JWT_SECRET: SECRET,
    ...env,
  }
  const child = Bun.spawn(
    [
      'valgrind',
      '-q',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}/cg.%p`,
      'bun',
      'backend/src/index.ts',
    ],
    { env: serverEnv, stdout: 'ignore', stderr: 'inherit' },
  )
  const control = async (...command: string[]) => {
    const done = await run(['callgrind_control', ...command, String(child.pid)], serverEnv)
    // callgrind_control exits 0 even when it found no such run, and prints "OK" even when vgdb
    // failed (valgrind 3.19 ignores vgdb's exit status), so its output is read as well.
    const said = `${done.stdout}${done.stderr}`
    if (done.exitCode !== 0 || /error|no active|not detected/i.test(said)) {
      throw new Error(`callgrind_control ${command.join(' ')}: ${said}`)
    }
  }
  // SIGTERM, and SIGKILL if valgrind has not exited 30 s later (it writes its last dump on exit).
  const stopServer = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(30_000).then(() => false)])
    if (!exited) {
      child.kill('SIGKILL')
      await child.exited
    }
  }
  const stopIfAborted = () => {
    if (stop.aborted) throw new Stopped(`${name}: stopped, the other configuration failed`)
  }
  const base = `http://127.0.0.1:${port}`
  try {
    for (let waited = 0; ; waited++) {
      const up = await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
      if (up) break
      if (child.exitCode !== null || waited > 600) throw new Error(`${name}: the server did not start`)
      stopIfAborted()
      await Bun.sleep(1_000)
    }
    const urls = { health: `${base}/health`, me: `${base}/api/v1/auth/me` }
    await load(urls.health, WARMUP)
    stopIfAborted()
    await load(urls.me, WARMUP, token)
    // Dump n of thread t is cg.<pid>.<n>-<t>; thread 01 is the main thread.
    const mainDump = (n: number) => join(out, `cg.${child.pid}.${n}-01`)
    const dumps: Phase['endpoint'][] = []
    for (let phase = 0; phase < PHASES; phase++) {
      stopIfAborted()
      await control('--zero')
      await control('--instr=on')
      const order: Phase['endpoint'][] = phase % 2 === 0 ? ['health', 'me'] : ['me', 'health']
      for (const endpoint of order) {
        await load(urls[endpoint], REQUESTS, endpoint === 'me' ? token : undefined)
        await control('--dump')
        dumps.push(endpoint)
        // A dump that was not written means the control above did not reach the server.
        if (!existsSync(mainDump(dumps.length))) throw new Error(`${name}: no dump ${mainDump(dumps.length)}`)
      }
      await control('--instr=off')
    }
    await stopServer()
    const files = readdirSync(out)
    const phases: Phase[] = []
    for (const [i, endpoint] of dumps.entries()) {
      const threads = files.filter((f) => f.startsWith(`cg.${child.pid}.${i + 1}-`))
      phases.push({
        endpoint,
        main: await countedIn(mainDump(i + 1)),
        all: threads.reduce((sum, f) => sum + totalIn(join(out, f)), 0),
      })
    }
    return phases
  } finally {
    // Waited for, so valgrind removes its vgdb pipes and no dump is being written while the
    // folders go; a cleanup failure must not hide the error that got us here.
    await stopServer()
    try {
      rmSync(dir, { recursive: true, force: true })
      rmSync(out, { recursive: true, force: true })
    } catch (error) {
      console.error(`${name}: could not remove ${dir} or ${out}: ${error}`)
    }
  }
}

function report(name: string, phases: Phase[]) {
  const per = (v: number) => v / REQUESTS
  const of = (endpoint: Phase['endpoint'], pick: (p: Phase) => number) =>
    median(phases.filter((p) => p.endpoint === endpoint).map((p) => per(pick(p))))
  const mainOf = (p: Phase) => p.main.jit + p.main.bun + p.main.other
  const row = (label: string, pick: (p: Phase) => number) => {
    const health = of('health', pick)
    const me = of('me', pick)
    return `${label.padEnd(22)} ${health.toFixed(0).padStart(9)} ${me.toFixed(0).padStart(9)} ${(me - health).toFixed(0).padStart(9)}`
  }
  const ratio = of('health', mainOf) / of('me', mainOf)
  console.log(`  ${name}: main thread /health ÷ /auth/me ${ratio.toFixed(3)}`)
  console.log(`    ${'instructions/request'.padEnd(22)}   /health  /auth/me     extra`)
  console.log(`    ${row('main thread', mainOf)}`)
  console.log(`    ${row('  JIT-compiled code', (p) => p.main.jit)}`)
  console.log(`    ${row('  rest of bun', (p) => p.main.bun)}`)
  console.log(`    ${row('  libraries (libc…)', (p) => p.main.other)}`)
  console.log(`    ${row('every thread', (p) => p.all)}`)
  const mains = (endpoint: Phase['endpoint']) =>
    phases
      .filter((p) => p.endpoint === endpoint)
      .map((p) => per(mainOf(p)).toFixed(0))
      .join(' ')
  console.log(`    per phase, main thread: /health ${mains('health')}; /auth/me ${mains('me')}`)
}

if (!Bun.which('valgrind') || !Bun.which('callgrind_control') || !Bun.which('callgrind_annotate')) {
  console.log('auth-ir skipped: valgrind is not installed (apt-get install -y valgrind)')
  process.exit(0)
}
const names = (args.stores ?? '').split(',')
const unknown = names.filter((name) => !(name in CONFIGS))
if (unknown.length > 0)
  throw new Error(`unknown --stores ${unknown.join(', ')} (known: ${Object.keys(CONFIGS).join(', ')})`)
// One database made at native speed, copied for each server (made under valgrind it takes minutes).
const template = mkdtempSync(join(tmpdir(), 'pilar-bench-ir-template-'))
try {
  const templateServer = await spawnBenchServer({ DATA_DIR: template, LOCAL_JWT_SECRET: SECRET })
  await templateServer.stop()
  const token = await signLocalToken(SECRET, { email: 'bench@example.test', ttlSeconds: 3_600 })
  // Settled, so one configuration's failure still lets the other stop its server and clean up;
  // the failure also tells the other to stop at its next phase.
  const stop = new AbortController()
  const settled = await Promise.allSettled(
    names.map((name) =>
      countConfig(name, CONFIGS[name] ?? {}, template, token, stop.signal).catch((error: unknown) => {
        stop.abort()
        throw error
      }),
    ),
  )
  const failures = settled.flatMap((r) =>
    r.status === 'rejected' && !(r.reason instanceof Stopped) ? [r.reason] : [],
  )
  if (failures.length === 1) throw failures[0]
  if (failures.length > 1) throw new AggregateError(failures, 'auth-ir: more than one configuration failed')
  const results = settled.map((r) => (r.status === 'fulfilled' ? r.value : []))
  console.log(
    `auth-ir: instructions per request under callgrind (user space; median of ${PHASES} phases of ${REQUESTS} requests per endpoint, ${IN_FLIGHT} in flight, after ${WARMUP} of each uncounted)`,
  )
  for (const [i, name] of names.entries()) report(name, results[i] ?? [])
} finally {
  rmSync(template, { recursive: true, force: true })
}
