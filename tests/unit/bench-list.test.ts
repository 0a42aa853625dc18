import { describe, expect, test } from 'bun:test'
import { availableBenches, BENCHES } from '@/cli/bench'

async function bench(args: string[]) {
  const child = Bun.spawn(['bun', 'backend/src/cli/bench.ts', ...args], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, code }
}

describe('bun run bench', () => {
  test('with no name: one line per benchmark with what it measures, how long it takes and what it needs', async () => {
    const { stdout, code } = await bench([])
    expect(code).toBe(0)
    const names = availableBenches()
    expect(names).toContain('load')
    expect(names).toContain('dev-reload')
    expect(names).not.toContain('stats') // a helper the benchmarks import
    const rows = stdout.split('\n').filter((l) => l.startsWith('  '))
    expect(rows.map((r) => r.trim().split(/\s+/)[0])).toEqual(names)
    for (const row of rows) expect(row).toMatch(/^ {2}\S+\s+\S.* · takes \S.* · needs \S/)
  })

  test('every file in tests/bench/ is described, and every description has its file', () => {
    const names = availableBenches()
    expect(names.filter((n) => !BENCHES[n])).toEqual([])
    expect(Object.keys(BENCHES).filter((n) => !names.includes(n))).toEqual([])
  })

  test('an unknown name: exit 1, the listing on stderr', async () => {
    const { stderr, code } = await bench(['no-such-bench'])
    expect(code).toBe(1)
    expect(stderr).toContain('Unknown benchmark "no-such-bench"')
    expect(stderr).toContain('  startup ')
  })
})
