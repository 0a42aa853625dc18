import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { procStatFields } from '@tests/helpers/proc-stat'

/** What the preload builds: the brand-new cluster, the seeded database, what the migrations applied. */
export interface Built {
  pristine: Blob
  seeded: Blob
  firstRun: string[]
}

/**
 * How this process gets the preload's database (db.ts):
 * - `builder`: it builds, then `publish`es for the other workers of the run (or `abandon`s);
 * - `loader`: another worker of the same run built it, and this is the result;
 * - `alone`: not a `--parallel` worker (a serial `bun test`), or the builder failed: build here.
 */
export type BuildRole =
  | { kind: 'builder'; publish(built: Built): Promise<void>; abandon(): void }
  | { kind: 'loader'; built: Built }
  | { kind: 'alone' }

const PREFIX = 'pilar-test-build-'

/** How long a worker waits for the builder before building for itself. */
const WAIT_MS = 120_000

// With `bun test --parallel=N` every worker ran PGlite's initdb, the migrations and the seeding
// at once — the same ≈ 8 CPU-s N times over on 2 cores, at the start of the run. Instead the
// workers of one run (children of one `bun test` coordinator) elect one builder by creating a
// directory named after the coordinator (pid and start time, so a later run never finds it);
// the others wait, then load its dumps (PGlite `loadDataDir`, ≈ 0.8 CPU-s). Files only (≈ 85 MB),
// in the system temp dir, read by the others at their start; removed by the builder's exit
// handler when it runs, else by the next `--parallel` run's builder (on Linux). Anything
// unexpected — another error, a directory not ours, a builder gone — and a worker builds its own.
export async function claimBuild(): Promise<BuildRole> {
  const run = coordinator()
  if (!run) return { kind: 'alone' }
  const dir = join(tmpdir(), `${PREFIX}${run}`)
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !ours(dir)) return { kind: 'alone' }
    return waitFor(dir)
  }
  // Who builds, so a waiting worker gives up as soon as the builder is gone.
  writeFileSync(join(dir, 'builder'), processRun(process.pid) ?? '')
  // Workers are stopped by their coordinator, so an exit handler is not enough: the builder also
  // removes what earlier runs left (their coordinator gone), so at most one run's dumps remain.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  sweepEarlierRuns(run)
  return {
    kind: 'builder',
    async publish({ pristine, seeded, firstRun }) {
      writeFileSync(join(dir, 'pristine.tar'), new Uint8Array(await pristine.arrayBuffer()))
      writeFileSync(join(dir, 'seeded.tar'), new Uint8Array(await seeded.arrayBuffer()))
      writeFileSync(join(dir, 'first-run.json'), JSON.stringify(firstRun))
      // Last, and atomically: a reader that sees `ready` finds every file whole.
      writeFileSync(join(dir, 'ready.tmp'), '')
      renameSync(join(dir, 'ready.tmp'), join(dir, 'ready'))
    },
    abandon() {
      // Best effort: this runs while another error is on its way out, which must stay the error.
      try {
        writeFileSync(join(dir, 'failed'), '')
      } catch {}
    },
  }
}

/** A directory of this user's, not a link: another local user cannot hand us their files. */
function ours(dir: string): boolean {
  try {
    const stat = lstatSync(dir)
    return stat.isDirectory() && stat.uid === process.getuid?.()
  } catch {
    return false
  }
}

async function waitFor(dir: string): Promise<BuildRole> {
  const until = Date.now() + WAIT_MS
  while (Date.now() < until) {
    if (existsSync(join(dir, 'ready'))) {
      try {
        const read = (file: string) => readFileSync(join(dir, file))
        return {
          kind: 'loader',
          built: {
            pristine: new Blob([read('pristine.tar')]),
            seeded: new Blob([read('seeded.tar')]),
            firstRun: JSON.parse(read('first-run.json').toString()) as string[],
          },
        }
      } catch {
        break // removed under us (the builder exited): build here
      }
    }
    if (existsSync(join(dir, 'failed')) || !builderAlive(dir)) break
    await Bun.sleep(25)
  }
  console.warn('the preload: no database from another worker of this run; building one here')
  return { kind: 'alone' }
}

/** False once the builder's process is gone (or its directory is); true while it may still be writing its name. */
function builderAlive(dir: string): boolean {
  if (!existsSync(dir)) return false
  let builder: string
  try {
    builder = readFileSync(join(dir, 'builder'), 'utf8')
  } catch {
    return true
  }
  if (builder === '') return true
  const [pid] = builder.split('-')
  return processRun(Number(pid)) === builder
}

function sweepEarlierRuns(current: string): void {
  // Best effort: another run's builder may be sweeping the same directories.
  try {
    for (const name of readdirSync(tmpdir())) {
      if (!name.startsWith(PREFIX)) continue
      const run = name.slice(PREFIX.length)
      const [pid] = run.split('-')
      if (run !== current && processRun(Number(pid)) !== run) {
        try {
          rmSync(join(tmpdir(), name), { recursive: true, force: true })
        } catch {}
      }
    }
  } catch {}
}

/** `<pid>-<start time>` of a live process, else undefined (gone, or not ours to read). */
function processRun(pid: number): string | undefined {
  // The start time, in clock ticks since boot: with the pid, unique for as long as the machine runs.
  const startTime = procStatFields(pid)?.[19]
  return startTime ? `${pid}-${startTime}` : undefined
}

/**
 * `<pid>-<start time>` of the `bun test` coordinator when this process is one of its
 * `--parallel` workers (Linux `/proc`), else undefined. Workers are told apart by Bun's internal
 * `--test-worker` flag (not inherited by their children, unlike BUN_TEST_WORKER_ID); should it
 * be renamed, every worker simply builds its own database again.
 */
function coordinator(): string | undefined {
  try {
    const self = readFileSync('/proc/self/cmdline', 'utf8').split('\0')
    return self.includes('--test-worker') ? processRun(process.ppid) : undefined
  } catch {
    return undefined
  }
}
