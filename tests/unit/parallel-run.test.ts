import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parallelCommand, suiteFlags } from '@tests/helpers/parallel-run'

const ROOT = join(import.meta.dir, '../..')
const FIXTURE = join(ROOT, 'tests/fixtures/parallel-run')
const FLAGS = suiteFlags(readFileSync(join(ROOT, 'package.json'), 'utf8'))

/** `bun test <args>` in the fixture directory (its own bunfig.toml and preload). */
async function bunTest(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn(['bun', 'test', ...args], {
    cwd: FIXTURE,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  const ranIn = [...`${stdout}${stderr}`.matchAll(/ran-in worker=(\S+) pid=(\d+)/g)].map((m) => ({
    worker: m[1],
    pid: Number(m[2]),
  }))
  return { code, output: `${stdout}${stderr}`, ranIn, pid: child.pid }
}

describe('a plain `bun test` runs the suite in workers, as `bun run test` does', () => {
  test("the flags come from package.json's test script", () => {
    expect(FLAGS).toContain('--no-isolate')
    expect(FLAGS.some((flag) => /^--parallel=\d+$/.test(flag))).toBe(true)
  })

  test('which runs are re-run, and with what', () => {
    const bun = process.execPath
    const plain = ['bun', 'test', '']
    expect(parallelCommand(plain, {}, FLAGS)).toEqual([bun, 'test', ...FLAGS])
    // Files, filters and reporters are passed on as given, after the suite's flags (an empty
    // argument too: only the NUL that ends /proc/self/cmdline is dropped).
    expect(parallelCommand(['bun', 'test', 'tests/unit', '-t', '', 'x', ''], {}, FLAGS)).toEqual([
      bun,
      'test',
      ...FLAGS,
      'tests/unit',
      '-t',
      '',
      'x',
    ])
    // Already parallel, a worker, watch and hot modes, isolation asked for, a debugger: as they are.
    const flags = [
      '--parallel',
      '--parallel=2',
      '--test-worker',
      '--watch',
      '--hot',
      '--isolate',
      '--no-isolate',
    ]
    for (const flag of [...flags, '--inspect', '--inspect-brk', '--inspect-wait=9229']) {
      expect(parallelCommand(['bun', 'test', flag, ''], {}, FLAGS)).toBeUndefined()
    }
    // A Bun option before `test` would be lost in the re-run.
    expect(parallelCommand(['bun', '--smol', 'test', ''], {}, FLAGS)).toBeUndefined()
    expect(parallelCommand(plain, { BUN_TEST_WORKER_ID: '1' }, FLAGS)).toBeUndefined()
    expect(parallelCommand(plain, { PILAR_TEST_SERIAL: '1' }, FLAGS)).toBeUndefined()
    // The re-run itself, and a package.json whose test script names no workers: never again.
    expect(parallelCommand(plain, { PILAR_TEST_RERUN: '1' }, FLAGS)).toBeUndefined()
    expect(parallelCommand(plain, {}, ['--bail'])).toBeUndefined()
    expect(parallelCommand(['bun', 'run', 'x.ts', ''], {}, FLAGS)).toBeUndefined()
  })

  test('for real: the files run in worker processes, and the exit status is theirs', async () => {
    const passed = await bunTest(['./passes.check.ts'])
    expect(passed.code).toBe(0)
    expect(passed.output).toContain(`bun test ${FLAGS.join(' ')} ./passes.check.ts`)
    expect(passed.ranIn).toHaveLength(1)
    expect(passed.ranIn[0]?.worker).not.toBe('none')
    expect(passed.ranIn[0]?.pid).not.toBe(passed.pid)

    const failed = await bunTest(['./passes.check.ts', './fails.check.ts'])
    expect(failed.code).toBe(1)
    expect(failed.ranIn).toHaveLength(2)
    expect(failed.ranIn.every((r) => r.worker !== 'none')).toBe(true)
  })

  test('PILAR_TEST_SERIAL=1: the files run in the process that was started', async () => {
    const serial = await bunTest(['./passes.check.ts'], { PILAR_TEST_SERIAL: '1' })
    expect(serial.code).toBe(0)
    expect(serial.ranIn).toEqual([{ worker: 'none', pid: serial.pid }])
  })
})
