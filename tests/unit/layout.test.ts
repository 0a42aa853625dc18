import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

// The layout rules of docs/architecture.md, read statically from the source: a newcomer's map
// stays true only if something fails when it stops being true.
const SRC = join(import.meta.dir, '../../backend/src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

/** Project files each file imports (`@/…` and relative), as paths relative to backend/src. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files.map((f) => relative(SRC, f)))
  const resolveSpec = (from: string, spec: string): string | undefined => {
    const base = spec.startsWith('@/')
      ? spec.slice(2)
      : spec.startsWith('.')
        ? relative(SRC, resolve(dirname(join(SRC, from)), spec))
        : undefined
    if (base === undefined) return undefined
    return [base, `${base}.ts`, `${base}/index.ts`].find((candidate) => known.has(candidate))
  }
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const from = relative(SRC, file)
    const targets = [...readFileSync(file, 'utf8').matchAll(IMPORT)]
      .map((m) => resolveSpec(from, m[1] ?? m[2] ?? ''))
      .filter((t): t is string => t !== undefined)
    graph.set(from, targets)
  }
  return graph
}

/** Every import cycle's members (Tarjan's strongly connected components of size > 1). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string | undefined
    do {
      w = stack.pop()
      if (w === undefined) break
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1) found.push(component)
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

const files = sourceFiles(SRC)
const graph = importGraph(files)

describe('layout', () => {
  test('every route file is at most 120 lines', () => {
    const long = files
      .map((f) => ({ file: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.file.startsWith('routes/') && f.lines > 120)
    expect(long).toEqual([])
  })

  test('lib/ imports no route, no service and not the container', () => {
    const upward = [...graph]
      .filter(([from]) => from.startsWith('lib/'))
      .flatMap(([from, targets]) =>
        targets
          .filter((t) => /^(routes|services)\//.test(t) || /^(container|app|index)\.ts$/.test(t))
          .map((t) => `${from} → ${t}`),
      )
    expect(upward).toEqual([])
  })

  test('config.ts imports nothing of the project', () => {
    expect(graph.get('config.ts')).toEqual([])
  })

  test('there is no import cycle', () => {
    expect(graph.size).toBeGreaterThan(100)
    expect(cycles(graph)).toEqual([])
  })

  test('the cycle finder finds a cycle when there is one (so the test above can fail)', () => {
    const withCycle = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ])
    expect(cycles(withCycle).map((c) => c.sort())).toEqual([['a.ts', 'b.ts', 'c.ts']])
  })

  test('a start-up imports no SDK before it is configured: each is reached from index.ts only through import()', () => {
    // openai, @anthropic-ai/sdk, langsmith and supabase-js are ~0.2 CPU-s of every start-up,
    // and the default (local) configuration uses none of them.
    const transpiler = new Bun.Transpiler({ loader: 'ts' })
    const known = new Set(files.map((f) => relative(SRC, f)))
    const packages = new Set<string>()
    const seen = new Set<string>()
    const walk = (from: string) => {
      if (seen.has(from)) return
      seen.add(from)
      // Static imports only (type-only ones are already gone): what loads when `from` loads.
      for (const { path, kind } of transpiler.scanImports(readFileSync(join(SRC, from), 'utf8'))) {
        if (kind !== 'import-statement') continue
        const base = path.startsWith('@/')
          ? path.slice(2)
          : path.startsWith('.')
            ? relative(SRC, resolve(dirname(join(SRC, from)), path))
            : undefined
        if (base === undefined) {
          packages.add(
            path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : (path.split('/')[0] ?? path),
          )
          continue
        }
        const target = [base, `${base}.ts`, `${base}/index.ts`].find((candidate) => known.has(candidate))
        if (target) walk(target)
      }
    }
    walk('index.ts')
    expect(seen.size).toBeGreaterThan(100)
    expect(packages).toContain('hono')
    for (const sdk of ['openai', '@anthropic-ai/sdk', 'langsmith', '@supabase/supabase-js']) {
      expect(packages).not.toContain(sdk)
    }
  })
})
