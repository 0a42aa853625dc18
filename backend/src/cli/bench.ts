import { readdirSync } from 'node:fs'
import { join } from 'node:path'

// `bun run bench <name> [args…]` runs tests/bench/<name>.ts; with no name it lists them.
const BENCH_DIR = join(import.meta.dir, '../../../tests/bench')
const available = readdirSync(BENCH_DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort()

const [name, ...args] = process.argv.slice(2)
if (!name || !available.includes(name)) {
  if (name) console.error(`Unknown benchmark "${name}".`)
  console.error(`Usage: bun run bench <name>\nAvailable: ${available.join(', ')}`)
  process.exit(name ? 1 : 0)
}
const child = Bun.spawn(['bun', join(BENCH_DIR, `${name}.ts`), ...args], {
  stdio: ['inherit', 'inherit', 'inherit'],
})
process.exit(await child.exited)
