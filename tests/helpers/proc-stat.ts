import { readFileSync } from 'node:fs'

/**
 * The fields of `/proc/<pid>/stat` (Linux) after the command name: index 0 is field 3 (state),
 * 1 the parent, 11 and 12 utime and stime, 19 the start time. Undefined once the process is
 * gone, or without /proc. The name is in parentheses and may hold spaces, so the split starts
 * after its closing one. With `thread`, the same fields of that one thread of the process
 * (`/proc/<pid>/task/<thread>/stat`; the main thread's id is the pid).
 */
export function procStatFields(pid: number, thread?: number): string[] | undefined {
  try {
    const stat = readFileSync(
      thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
      'utf8',
    )
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}
