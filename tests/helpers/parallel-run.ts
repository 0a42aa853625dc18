import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'

// A plain `bun test` runs every file in one process, one after another: ~145 s for this suite
// on a 2-core machine, against ~75 s in the three workers of `bun run test` (the real-process
// tests spend much of their time waiting on servers, Prism and Chromium, which other files
// overlap). bunfig.toml has no setting for workers, so the preload of a plain run re-runs it
// as `bun run test` does — the same files and flags, in workers — and exits with its status.
// Kept serial: PILAR_TEST_SERIAL=1 (a debugger, a bisect), --watch and --hot (the runner must
// stay in this process), --isolate (a different mode, asked for on purpose).

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
 * a run that is already parallel, or one of the cases above.
 */
export function parallelCommand(
  cmdline: string[],
  env: Record<string, string | undefined>,
  flags: string[],
): string[] | undefined {
  const at = cmdline.indexOf('test')
  if (at < 0) return undefined
  const args = cmdline.slice(at + 1).filter((arg) => arg !== '')
  if (env.PILAR_TEST_SERIAL === '1' || env.BUN_TEST_WORKER_ID !== undefined) return undefined
  const keep = ['--parallel', '--test-worker', '--watch', '--hot', '--isolate', '--no-isolate']
  if (args.some((arg) => keep.some((flag) => arg === flag || arg.startsWith(`${flag}=`)))) return undefined
  return ['bun', 'test', ...flags, ...args]
}

/**
 * Re-runs a serial `bun test` in workers and exits with its status (signals are passed on, so
 * Ctrl-C or a CI timeout stops the workers too); returns when this run stays serial.
 */
export async function rerunInParallel(): Promise<void> {
  let cmdline: string[]
  try {
    cmdline = readFileSync('/proc/self/cmdline', 'utf8').split('\0')
  } catch {
    return // Not Linux: no way to read our own arguments here, so the run stays serial.
  }
  const root = join(import.meta.dir, '../..')
  const command = parallelCommand(
    cmdline,
    process.env,
    suiteFlags(readFileSync(join(root, 'package.json'), 'utf8')),
  )
  if (!command) return
  console.error(
    `${command.join(' ')}   (the suite in workers, as \`bun run test\`; PILAR_TEST_SERIAL=1 runs it in one process)`,
  )
  const child = Bun.spawn(command, { cwd: process.cwd(), stdio: ['inherit', 'inherit', 'inherit'] })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal))
  const code = await child.exited
  process.exit(child.signalCode ? 128 + constants.signals[child.signalCode as NodeJS.Signals] : code)
}
