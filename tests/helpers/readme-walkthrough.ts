import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// README.md's "API walk-through" as data: its ```sh blocks split into commands, each with the
// output its comment shows, and a runner that pastes them, in order, into one bash against any
// base URL (the server itself, or a proxy in front of it). readme.test.ts compares what they
// print; contract-prism.test.ts sends them through Prism.

export const REPO = join(import.meta.dir, '../..')
const MARK = '@@README-STATEMENT'

export interface Statement {
  /** `<block>.<index>`, both from 0. */
  id: string
  block: number
  index: number
  code: string
  /**
   * The comment lines right under it (no blank line between), without their `# `: what the
   * README says it prints. A comment at the end of the command's own line is a remark, never
   * output.
   */
  expected: string[]
}

/** The ```sh blocks of one `## ` section and the sections nested under it. */
export function walkthroughBlocks(markdown: string, heading = 'API walk-through'): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`)
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`)
  const rest = markdown.slice(start + 1)
  const next = rest.slice(3).search(/\n## /)
  const section = next < 0 ? rest : rest.slice(0, next + 3)
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
}

/** Whether `text` is a complete bash command list (bash's own parser decides). */
function complete(text: string): boolean {
  // bash -n accepts a trailing backslash at the end of its input; a pasted block would not.
  if (text.endsWith('\\')) return false
  return Bun.spawnSync(['bash', '-n'], { stdin: Buffer.from(text), stderr: 'ignore' }).exitCode === 0
}

/** Splits a block into commands (a loop, a continued line or a quoted newline stays whole). */
export function statements(block: string, blockIndex: number): Statement[] {
  const lines = block.split('\n')
  const result: Statement[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] ?? ''
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      i++
      continue
    }
    let j = i + 1
    while (j < lines.length && !complete(lines.slice(i, j).join('\n'))) j++
    const code = lines.slice(i, j).join('\n')
    const expected: string[] = []
    while (j < lines.length && (lines[j] ?? '').trimStart().startsWith('#')) {
      expected.push((lines[j] ?? '').trimStart().replace(/^#\s?/, ''))
      j++
    }
    const index = result.length
    result.push({ id: `${blockIndex}.${index}`, block: blockIndex, index, code, expected })
    i = j
  }
  return result
}

/** Every command of README.md's walk-through, in order. */
export function readmeWalkthrough(markdown = readFileSync(join(REPO, 'README.md'), 'utf8')): Statement[] {
  return walkthroughBlocks(markdown).flatMap((block, b) => statements(block, b))
}

export interface WalkthroughRun {
  exitCode: number
  stderr: string
  /** What each statement printed on stdout, by position; undefined where it never ran. */
  outputs: (string | undefined)[]
  /** Wall-clock seconds each statement took, by position. */
  seconds: (number | undefined)[]
  /** The statement bash stopped at (set -e), when it did not get to the end. */
  failed?: Statement
}

/**
 * Runs the statements in one bash, `set -eo pipefail`, with `localhost:3001` replaced by `base`
 * (`host:port`, or one per statement), in a scratch folder (the walk-through writes files).
 * `bun run <script>` runs in the repository, as a reader would.
 */
export async function runWalkthrough(
  all: Statement[],
  options: { base: string | ((statement: Statement) => string); env: Record<string, string> },
): Promise<WalkthroughRun> {
  const { base } = options
  const baseOf = typeof base === 'string' ? () => base : base
  const workDir = mkdtempSync(join(tmpdir(), 'pilar-readme-'))
  const script = [
    'set -eo pipefail',
    `bun() { if [ "$1" = run ]; then (cd ${JSON.stringify(REPO)} && command bun "$@"); else command bun "$@"; fi; }`,
    // Each statement is preceded by a marker with its id and the time, so output and duration
    // can be told apart afterwards (EPOCHREALTIME: bash 5).
    ...all.flatMap((s) => [
      `printf '\\n${MARK} %s %s\\n' ${s.id} "$EPOCHREALTIME"`,
      s.code.replaceAll('localhost:3001', baseOf(s)),
    ]),
    `printf '\\n${MARK} end %s\\n' "$EPOCHREALTIME"`,
  ].join('\n')
  try {
    const child = Bun.spawn(['bash', '-c', script], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    const outputs: (string | undefined)[] = []
    const seconds: (number | undefined)[] = []
    const marks: { index: number; at: number }[] = []
    // Output of statement k sits between its marker and the next one.
    for (const part of stdout.split(new RegExp(`\\n?${MARK} `)).slice(1)) {
      const newline = part.indexOf('\n')
      const [id, at] = part.slice(0, newline < 0 ? undefined : newline).split(' ')
      const index = id === 'end' ? all.length : all.findIndex((s) => s.id === id)
      marks.push({ index, at: Number(at) })
      if (index >= 0 && index < all.length) outputs[index] = newline < 0 ? '' : part.slice(newline + 1)
    }
    for (let k = 0; k + 1 < marks.length; k++) {
      const { index, at } = marks[k] ?? { index: -1, at: 0 }
      if (index >= 0) seconds[index] = (marks[k + 1]?.at ?? at) - at
    }
    const reached = marks.at(-1)?.index ?? 0
    return { exitCode, stderr, outputs, seconds, failed: exitCode === 0 ? undefined : all[reached] }
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

/** The slowest statements of a run, for a one-line summary. */
export function slowest(all: Statement[], run: WalkthroughRun, count = 3): string {
  return all
    .map((s, k) => ({ s, t: run.seconds[k] ?? 0 }))
    .sort((a, b) => b.t - a.t)
    .slice(0, count)
    .map(({ s, t }) => `${s.id} ${t.toFixed(2)} s (${s.code.split('\n')[0]?.slice(0, 50)}…)`)
    .join('; ')
}
