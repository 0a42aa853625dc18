import { existsSync } from 'node:fs'
import { join } from 'node:path'

/**
 * bun run bench progress [--part events|leaderboard|completion|analytics] [part options…]
 *
 * Issue 16's measurements, one module per part under tests/bench/progress/ (each exports
 * `run(args)` and prints its own table and options). With no --part every part runs, one after
 * the other, with its defaults.
 */
const PARTS = ['events', 'leaderboard', 'completion', 'analytics'] as const

const argv = process.argv.slice(2)
const at = argv.indexOf('--part')
const chosen = at >= 0 ? argv[at + 1] : undefined
const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv

if (chosen !== undefined && !(PARTS as readonly string[]).includes(chosen)) {
  console.error(`Unknown part "${chosen}". Parts: ${PARTS.join(', ')}`)
  process.exit(1)
}
for (const part of chosen ? [chosen] : PARTS) {
  const file = join(import.meta.dir, 'progress', `${part}.ts`)
  if (!existsSync(file)) {
    console.error(`part ${part}: ${file} is missing`)
    process.exit(1)
  }
  console.log(`\n## progress: ${part}\n`)
  const { run } = (await import(file)) as { run: (args: string[]) => Promise<void> }
  await run(chosen ? rest : [])
}
process.exit(0)
