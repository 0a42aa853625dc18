import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@tests/helpers/ports'

/**
 * Start-up time of the real server, measured from spawn to the first 200 from GET /health:
 * a first start (the embedded database is created and migrated) and restarts on the same data
 * directory, side by side in one run.  Usage: bun run bench startup [rounds]
 */
const rounds = Number(process.argv[2] ?? 3)

async function timeToHealthy(dataDir: string): Promise<number> {
  const port = freePort()
  const started = performance.now()
  const child = Bun.spawn(['bun', 'backend/src/index.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status === 200,
      () => false,
    )
    if (ok) break
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    await Bun.sleep(20)
  }
  const elapsed = performance.now() - started
  child.kill('SIGTERM')
  await child.exited
  return elapsed
}

const first: number[] = []
const restart: number[] = []
for (let i = 0; i < rounds; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'pilar-bench-startup-'))
  try {
    first.push(await timeToHealthy(dir))
    restart.push(await timeToHealthy(dir))
    restart.push(await timeToHealthy(dir))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const fmt = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0
  return `median ${(median / 1000).toFixed(2)} s  min ${((sorted[0] ?? 0) / 1000).toFixed(2)} s  max ${((sorted.at(-1) ?? 0) / 1000).toFixed(2)} s  (n=${values.length})`
}
console.log('spawn → first GET /health 200')
console.log(`  first start (new database): ${fmt(first)}`)
console.log(`  restart (existing database): ${fmt(restart)}`)
const medianFirst = [...first].sort((a, b) => a - b)[Math.floor(first.length / 2)] ?? 0
const medianRestart = [...restart].sort((a, b) => a - b)[Math.floor(restart.length / 2)] ?? 0
console.log(`  ratio first/restart: ${(medianFirst / medianRestart).toFixed(1)}x`)
