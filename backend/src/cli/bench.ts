import { readdirSync } from 'node:fs'
import { join } from 'node:path'

// `bun run bench <name> [args…]` runs tests/bench/<name>.ts; with no name it lists them, one
// line each: what it measures, how long it takes with its defaults here, what it needs.
const BENCH_DIR = join(import.meta.dir, '../../../tests/bench')

/** Modules in tests/bench/ that other benchmarks import: not benchmarks themselves. */
export const BENCH_HELPERS = new Set(['stats'])

interface BenchInfo {
  measures: string
  /** With the defaults, on the 2-core machines this repository is tested on. */
  takes: string
  /** Beyond `bun install`; every benchmark starts its own servers on temporary data. */
  needs: string
}

/** One entry per tests/bench/<name>.ts; a test fails when a benchmark has none. */
export const BENCHES: Record<string, BenchInfo> = {
  accounts: {
    measures: 'local accounts: password sign-ins/s and refresh rotations/s beside one argon2id verify',
    takes: '~1 min',
    needs: 'nothing',
  },
  'accounts-data': {
    measures: 'export of a user with 10,000 messages (time, bytes, RSS) vs a naive export; deletion',
    takes: '~1 min',
    needs: 'nothing',
  },
  assessments: {
    measures: 'answers/s and p50/p99 over HTTP at 1/16/64 in flight, one row vs many; lost answers',
    takes: '~1-2 min',
    needs: 'nothing',
  },
  auth: {
    measures: 'token cache vs Supabase Auth calls; /auth/me vs /health req/s per limiter store',
    takes: '~5 min',
    needs: 'wrk (apt-get install -y wrk); redis-server for the Redis store',
  },
  'auth-ab': {
    measures: "the auth hot path of this tree vs another revision's (--base REV), in one process",
    takes: '~2 min',
    needs: 'git (a temporary worktree of --base)',
  },
  'auth-ir': {
    measures:
      '/auth/me vs /health in instructions per request under callgrind (counted, not timed), limiter off vs memory',
    takes: '~6-7 min',
    needs: 'valgrind (apt-get install -y valgrind)',
  },
  content: {
    measures: 'content lists, full text, 200 vs 304 reads over 10,000 items; publish-to-searchable',
    takes: '~3 min',
    needs: 'nothing',
  },
  'dev-reload': {
    measures:
      'bun run dev: per reload "stopped" before "starting", a new pid, /health; server and supervisor RSS over 10 reloads, vs bun --watch',
    takes: '~1.5 min',
    needs: 'Linux (/proc); the watch mode rewrites one source file with its own bytes',
  },
  llm: {
    measures: "the router's failover overhead with an open breaker; SSE time to first delta",
    takes: '~30 s',
    needs: 'nothing (fake OpenAI and Anthropic servers)',
  },
  load: {
    measures: 'a realistic request mix at 16/64 connections (p50/p95/p99, errors), then faults',
    takes: '~3 min (30 s per phase; `bun run bench load 10` is shorter)',
    needs: 'wrk and redis-server (apt-get install -y wrk redis-server)',
  },
  progress: {
    measures: 'events ingest (batched vs single), leaderboards, completion, analytics (--part)',
    takes: '~3 min for every part',
    needs: 'nothing',
  },
  rag: {
    measures: 'knowledge ingest chunks/s; HNSW vs exact top-10 latency and recall at 10k/100k',
    takes: '~10 min (--sizes 10000 for ~1 min)',
    needs: 'nothing (in-memory database)',
  },
  startup: {
    measures: 'spawn to first 200 from /health: a first start vs restarts on the same DATA_DIR',
    takes: '~1 min',
    needs: 'nothing',
  },
  teams: {
    measures: 'round results over 1,000 members (HTTP, naive vs SQL aggregate); joins at the cap',
    takes: '~3 min',
    needs: 'nothing',
  },
}

/** The benchmarks on disk, sorted. */
export function availableBenches(dir = BENCH_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !BENCH_HELPERS.has(name))
    .sort()
}

/** The listing `bun run bench` prints with no name. */
export function benchList(names: string[]): string {
  const width = Math.max(...names.map((n) => n.length))
  const lines = names.map((name) => {
    const info = BENCHES[name]
    const text = info
      ? `${info.measures} · takes ${info.takes} · needs ${info.needs}`
      : '(not described yet: add it to BENCHES in backend/src/cli/bench.ts)'
    return `  ${name.padEnd(width)}  ${text}`
  })
  return `Usage: bun run bench <name> [options]   (options: see the comment at the top of tests/bench/<name>.ts)\n\n${lines.join('\n')}`
}

if (import.meta.main) {
  const available = availableBenches()
  const [name, ...args] = process.argv.slice(2)
  if (!name || !available.includes(name)) {
    if (name)
      console.error(`Unknown benchmark "${name}".\n`)
      // The listing is the answer to "bun run bench"; after a wrong name it is an error's context.
    ;(name ? console.error : console.log)(benchList(available))
    process.exit(name ? 1 : 0)
  }
  const child = Bun.spawn(['bun', join(BENCH_DIR, `${name}.ts`), ...args], {
    stdio: ['inherit', 'inherit', 'inherit'],
  })
  process.exit(await child.exited)
}
