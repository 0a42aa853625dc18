import { dlopen, FFIType, type Pointer, read } from 'bun:ffi'
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** Another live process already holds the embedded database's directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    /** What the holder wrote in the lock file, for the message only; undefined if unreadable. */
    readonly pid: number | undefined,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by ${pid === undefined ? 'another process' : `process ${pid}`}. ` +
        'The embedded database allows one process only; ' +
        'stop the other one, choose another DATA_DIR, or set DATABASE_URL to share a Postgres server.',
    )
    this.name = 'DataDirLockedError'
  }
}

export const LOCK_FILE = 'pilar.lock'

// flock(2) constants and EWOULDBLOCK: the same numbers on Linux and macOS, except EWOULDBLOCK.
const LOCK_EX = 2
const LOCK_NB = 4
const LOCK_UN = 8
const EWOULDBLOCK = process.platform === 'darwin' ? 35 : 11

type Libc = {
  flock(fd: number, operation: number): number
  errno(): number
}

let libc: Libc | undefined

// node:fs has no flock, so libc's is called through bun:ffi, loaded on first use.
function loadLibc(): Libc {
  if (libc) return libc
  const darwin = process.platform === 'darwin'
  if (process.platform !== 'linux' && !darwin) {
    throw new Error(
      `the embedded database's DATA_DIR lock needs flock(2), which ${process.platform} lacks: set DATABASE_URL`,
    )
  }
  // errno is thread-local in libc; this returns its address (named differently on macOS).
  const errnoSymbol = darwin ? '__error' : '__errno_location'
  const library = dlopen(darwin ? 'libc.dylib' : 'libc.so.6', {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [errnoSymbol]: { args: [], returns: FFIType.ptr },
  })
  const symbols = library.symbols as unknown as {
    flock(fd: number, operation: number): number
    [errnoSymbol: string]: (...args: number[]) => unknown
  }
  const errnoLocation = symbols[errnoSymbol] as () => Pointer | null
  libc = {
    flock: (fd, operation) => symbols.flock(fd, operation),
    errno: () => {
      const pointer = errnoLocation()
      return pointer ? read.i32(pointer, 0) : 0
    },
  }
  return libc
}

/**
 * PGlite has no lock of its own: two processes opening one data directory corrupt it. The
 * guard is a kernel lock, flock(LOCK_EX | LOCK_NB), on an open descriptor of `pilar.lock`:
 * taking it is one atomic step (no read-pid-remove-create race between processes started on a
 * stale file), and the kernel drops it the moment the holder dies — even while the dead process
 * stays a zombie that still answers kill(pid, 0), as under a PID 1 that does not reap. The file
 * itself is never removed (a removed file could be locked by one process and re-created and
 * locked by another); the pid written in it is only for the error message.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const { flock, errno } = loadLibc()
  const path = join(dataDir, LOCK_FILE)
  // 'a+' creates the file if needed and never truncates what a live holder wrote.
  const fd = openSync(path, 'a+', 0o600)
  if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const code = errno()
    closeSync(fd)
    if (code !== EWOULDBLOCK) throw new Error(`could not lock ${path}: flock failed (errno ${code})`)
    throw new DataDirLockedError(dataDir, holderPid(path))
  }
  ftruncateSync(fd, 0)
  writeSync(fd, String(process.pid))
  let released = false
  return () => {
    if (released) return
    released = true
    flock(fd, LOCK_UN)
    closeSync(fd)
  }
}

function holderPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    return Number.isInteger(pid) ? pid : undefined
  } catch {
    return undefined
  }
}
