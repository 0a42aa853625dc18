import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'

// A plain `bun test` runs every file in one process, one after another: ~145 s for this suite
// on a 2-core machine, against ~75 s in the three workers of `bun run test` (the real-process
// tests spend much of their time waiting on servers, Prism and Chromium, which other files
// overlap). bunfig.toml has no setting for workers, so the preload of a plain run re-runs it
// as `bun run test` does — the same files and flags, in workers — and exits with its status.
// Kept serial: PILAR_TEST_SERIAL=1 (a bisect), --watch and --hot (the runner must stay in this
// process), --isolate (a different mode, asked for on purpose), --inspect* and any Bun option
// before `test` (a debugger or `--smol` would not follow the re-run).

/** The arguments `bun run test` adds after `bun test` (package.json), e.g. `--parallel=3 --no-isolate`. */
export function suiteFlags(packageJson: string): string[] {
  const script: unknown = JSON.parse(packageJson)?.scripts?.test
  if (typeof script !== 'string') throw new Error('package.json has no "test" script')
  const words = script.trim().split(/\s+/)
  if (words[0] !== 'bun' || words[1] !== 'test')
    throw new Error(`the "test" script is not a bun test: ${script}`)
  return words.slice(2)
}

/**
 * The command to re-run a serial `bun test` with (`cmdline`: this process's own, from
 * /proc/self/cmdline), or undefined when this run stays as it is: a worker of a parallel run,
 * a run that is already parallel or was re-run already, Bun options before `test` (`--smol`,
 * `--inspect-brk`: the re-run would lose them), a debugger, or one of the cases above.
 */
export function parallelCommand(
  cmdline: string[],
  env: Record<string, string | undefined>,
  flags: string[],
): string[] | undefined {
  if (serialByEnvironment(env)) return undefined
  const at = cmdline.indexOf('test')
  if (at !== 1) return undefined
  // /proc/self/cmdline ends with a NUL, so the split's last element is empty; any other empty
  // argument is the user's own (`-t ""`).
  const args = cmdline.slice(at + 1, cmdline.at(-1) === '' ? -1 : undefined)
  const keep = ['--parallel', '--test-worker', '--watch', '--hot', '--isolate', '--no-isolate', '--inspect']
  if (
    args.some((arg) =>
      keep.some((flag) => arg === flag || arg.startsWith(`${flag}=`) || arg.startsWith(`${flag}-`)),
    )
  ) {
    return undefined
  }
  // Without a worker count the re-run would be serial again, and re-run itself in turn.
  if (!flags.some((flag) => flag === '--parallel' || flag.startsWith('--parallel='))) return undefined
  return [process.execPath, 'test', ...flags, ...args]
}

/** Set on the re-run, so it never re-runs itself (whatever package.json says). */
const RERUN = 'PILAR_TEST_RERUN'

/** The opt-out, a worker of a parallel run, or the re-run itself. */
const serialByEnvironment = (env: Record<string, string | undefined>) =>
  env.PILAR_TEST_SERIAL === '1' || env.BUN_TEST_WORKER_ID !== undefined || env[RERUN] === '1'

/**
 * Re-runs a serial `bun test` in workers and exits with its status (signals are passed on, so
 * Ctrl-C or a CI timeout stops the workers too); returns when this run stays serial.
 */
export async function rerunInParallel(): Promise<void> {
  // Decided before package.json is read: workers and the re-run never need it.
  if (serialByEnvironment(process.env)) return
  let cmdline: string[]
  let flags: string[]
  try {
    cmdline = readFileSync('/proc/self/cmdline', 'utf8').split('\0')
  } catch {
    return // Not Linux: no way to read our own arguments here, so the run stays serial.
  }
  try {
    flags = suiteFlags(readFileSync(join(import.meta.dir, '../../package.json'), 'utf8'))
  } catch (error) {
    console.error(`bun test stays in one process: ${error instanceof Error ? error.message : error}`)
    return
  }
  const command = parallelCommand(cmdline, process.env, flags)
  if (!command) return
  console.error(
    `bun test ${command.slice(2).join(' ')}   (the suite in workers, as \`bun run test\`; PILAR_TEST_SERIAL=1 runs it in one process)`,
  )
  const child = Bun.spawn(command, {
    cwd: process.cwd(),
    env: { ...process.env, [RERUN]: '1' },
    stdio: ['inherit', 'inherit', 'inherit'],
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal))
  const code = await child.exited
  process.exit(child.signalCode ? 128 + constants.signals[child.signalCode as NodeJS.Signals] : code)
}
