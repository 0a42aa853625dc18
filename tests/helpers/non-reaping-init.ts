// Plays a container's PID 1 that does not reap: a child subreaper (prctl PR_SET_CHILD_SUBREAPER,
// Linux) that runs argv as its child and never waits for the orphans reparented to it, so a
// process whose parent dies stays a zombie — one whose pid still answers kill(pid, 0).
// Prints {"parent_pid": n}; the child's output is passed through.
import { dlopen, FFIType } from 'bun:ffi'

const PR_SET_CHILD_SUBREAPER = 36
const { symbols } = dlopen('libc.so.6', {
  prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
})
if (symbols.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) process.exit(3)
// Bun waits for the child it spawned (by pid), never for adopted orphans.
const child = Bun.spawn(process.argv.slice(2), { stdio: ['ignore', 'inherit', 'inherit'] })
process.stdout.write(`${JSON.stringify({ parent_pid: child.pid })}\n`)
setInterval(() => {}, 1 << 30)
