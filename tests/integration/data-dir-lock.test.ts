import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataDirLockedError, lockDataDir } from '@/lib/db/data-dir-lock'

const scratch = mkdtempSync(join(tmpdir(), 'pilar-lock-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A pid that belonged to a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = Bun.spawn(['true'])
  await child.exited
  return child.pid
}

/** Reads a child's stdout one line at a time. */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader()
  let buffered = ''
  return async (): Promise<string> => {
    while (!buffered.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) return buffered
      buffered += new TextDecoder().decode(value)
    }
    const end = buffered.indexOf('\n')
    const line = buffered.slice(0, end)
    buffered = buffered.slice(end + 1)
    return line
  }
}

describe('DATA_DIR lock', () => {
  test('N processes started together on stale lock files: exactly one wins each directory', async () => {
    const contenders = 6
    const rounds = 30
    const stale = await deadPid()
    const dirs = Array.from({ length: rounds }, (_, i) => {
      const dir = join(scratch, `race-${i}`)
      mkdirSync(dir)
      // Left by a process that died without cleaning up: the case the old takeover raced on.
      writeFileSync(join(dir, 'pilar.lock'), String(stale))
      return dir
    })
    const children = Array.from({ length: contenders }, () =>
      Bun.spawn(['bun', 'tests/helpers/lock-contender.ts'], { stdin: 'pipe', stdout: 'pipe' }),
    )
    const readers = children.map((child) => lineReader(child.stdout))
    expect(await Promise.all(readers.map((next) => next()))).toEqual(children.map(() => 'ready'))
    // Everyone is loaded: give them one start time, a moment ahead.
    const plan = `${JSON.stringify({ dirs, startAt: Date.now() + 50, intervalMs: 15 })}\n`
    for (const child of children) {
      child.stdin.write(plan)
      child.stdin.flush()
    }
    const lines = (await Promise.all(readers.map((next) => next()))).map(
      (line) => JSON.parse(line) as string[],
    )
    for (const child of children) child.stdin.end()
    await Promise.all(children.map((child) => child.exited))

    for (let round = 0; round < rounds; round++) {
      const outcomes = lines.map((results) => results[round])
      expect({ round, winners: outcomes.filter((o) => o === 'won').length }).toEqual({ round, winners: 1 })
      expect(outcomes.filter((o) => o !== 'won' && o !== 'locked')).toEqual([])
    }
    // The winner's pid is written down, for the refusal message.
    const holders = new Set(children.map((c) => c.pid))
    for (const dir of dirs)
      expect(holders.has(Number(readFileSync(join(dir, 'pilar.lock'), 'utf8')))).toBe(true)
  }, 30_000)

  test('in one process: a second lock is refused with the holder named, and released on unlock', () => {
    const dir = join(scratch, 'same-process')
    mkdirSync(dir)
    const release = lockDataDir(dir)
    const refused = (() => {
      try {
        lockDataDir(dir)
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(DataDirLockedError)
    expect((refused as DataDirLockedError).message).toContain(`is in use by process ${process.pid}`)
    release()
    const again = lockDataDir(dir)
    again()
  })
})
