import { describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { createLogger } from '@/lib/log'
import { Housekeeping } from '@/services/housekeeping'

function capture() {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: createLogger('info', sink) }
}

describe('the hourly housekeeping run', () => {
  test('runs its jobs one after another, in order: each starts once the one before has finished', async () => {
    const events: string[] = []
    const job = (name: string, ms: number) => ({
      name,
      run: async () => {
        events.push(`${name} start`)
        await Bun.sleep(ms)
        events.push(`${name} end`)
        return { done: 1 }
      },
    })
    const { lines, logger } = capture()
    // The first job is the slowest: run all at once, the others would finish inside it.
    await new Housekeeping(
      [job('content index', 30), job('embeddings', 10), job('planner statistics', 1)],
      logger,
    ).run()
    expect(events).toEqual([
      'content index start',
      'content index end',
      'embeddings start',
      'embeddings end',
      'planner statistics start',
      'planner statistics end',
    ])
    expect(lines.filter((l) => l.msg === 'housekeeping').map((l) => l.job)).toEqual([
      'content index',
      'embeddings',
      'planner statistics',
    ])
  })

  test('a failed job is logged with its name and the next one still runs; nothing done is not logged', async () => {
    const { lines, logger } = capture()
    const ran: string[] = []
    const noted = (name: string, removed: number) => {
      ran.push(name)
      return { removed }
    }
    await new Housekeeping(
      [
        {
          name: 'broken',
          run: async () => {
            throw new Error('the store is down')
          },
        },
        { name: 'idle', run: async () => noted('idle', 0) },
        { name: 'busy', run: async () => noted('busy', 2) },
      ],
      logger,
    ).run()
    expect(ran).toEqual(['idle', 'busy'])
    expect(lines.map((l) => [l.level, l.msg, l.job])).toEqual([
      ['error', 'housekeeping failed', 'broken'],
      ['info', 'housekeeping', 'busy'],
    ])
  })
})
