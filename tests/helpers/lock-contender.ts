// A process racing others for DATA_DIR locks (tests/integration/data-dir-lock.test.ts).
// Prints `ready` once loaded, then reads one JSON line from stdin: { dirs, startAt, intervalMs }.
// Round k tries `dirs[k]` at startAt + k·intervalMs, so every contender tries the same
// directory at the same moment. Prints one JSON line of results ('won' | 'locked' | an error
// message per round), keeps every lock it won, and exits when its stdin closes.
import { DataDirLockedError, lockDataDir } from '@/lib/db/data-dir-lock'

process.stdout.write('ready\n')
const input = Bun.stdin.stream().getReader()
let buffered = ''
while (!buffered.includes('\n')) {
  const { value, done } = await input.read()
  if (done) process.exit(2)
  buffered += new TextDecoder().decode(value)
}
const { dirs, startAt, intervalMs } = JSON.parse(buffered) as {
  dirs: string[]
  startAt: number
  intervalMs: number
}
const results: string[] = []
for (const [round, dir] of dirs.entries()) {
  const at = startAt + round * intervalMs
  if (at - Date.now() > 2) Bun.sleepSync(at - Date.now() - 2)
  while (Date.now() < at) {} // spin the last moments, so contenders start within the same ms
  try {
    lockDataDir(dir)
    results.push('won')
  } catch (error) {
    results.push(error instanceof DataDirLockedError ? 'locked' : String(error))
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`)
while (!(await input.read()).done) {
  // Every lock won stays held until the test has heard from every contender.
}
