import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { loadConfig } from '@/config'
import { MIGRATIONS_DIR } from '@/container'
import { signLocalToken } from '@/lib/auth/local-tokens'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'

/**
 * bun run bench assessments [--answers 1000] [--levels 1,16,64]
 *
 * Answers/s over HTTP against the real server on the embedded database, at several
 * concurrency levels, in two shapes:
 * - one assessment: every answer to ONE row (the worst case: every write contends and the
 *   JSONB grows to ANSWERS keys), each to a different question so a lost write is visible;
 * - real assessments: the same number of answers spread over assessments of 8 questions each.
 * Reports throughput, p50/p99 latency and lost answers (acknowledged but not stored).
 */
const { values: args } = parseArgs({
  options: { answers: { type: 'string', default: '1000' }, levels: { type: 'string', default: '1,16,64' } },
})
const ANSWERS = Number(args.answers)
const LEVELS = String(args.levels).split(',').map(Number)
const SECRET = 'bench-local-secret-0123456789-abcdefgh'
const probe = (n: number) => `grpprosp.bench_probe.${n}`

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}

const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-assessments-'))
try {
  // Prepare the database before the server starts (it loads the question bank at boot): the
  // real migrations plus enough probe questions for every answer to target its own question.
  const parsed = loadConfig({ DATA_DIR: dataDir })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  const setup = await openDatabase(parsed.config.database)
  await migrate(setup, readMigrations(MIGRATIONS_DIR))
  await setup.transaction(async (tx) => {
    for (let n = 1; n <= ANSWERS; n++) {
      await tx.query(
        `insert into public.assessment_questions (id, pillar_id, mode, force_key, force_name, position, text)
         values ($1, 'grpprosp', 'egalitarian', 'bench_probe', 'Bench Probe', $2, $3)`,
        [probe(n), 10_000 + n, `Benchmark probe statement ${n}.`],
      )
    }
  })
  await setup.close()

  const server = await spawnBenchServer({ DATA_DIR: dataDir, LOCAL_JWT_SECRET: SECRET })
  const base = `${server.base}/api/v1/assessments`
  try {
    const token = await signLocalToken(SECRET, { email: 'bench@example.test', ttlSeconds: 3_600 })
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

    const newAssessment = async () => {
      const created = await fetch(base, {
        method: 'POST',
        headers,
        body: JSON.stringify({ pillar_id: 'grpprosp', mode: 'egalitarian' }),
      })
      return ((await created.json()) as { assessment: { id: string } }).assessment.id
    }
    const storedCount = async (id: string) =>
      (
        (await (await fetch(`${base}/${id}`, { headers })).json()) as {
          assessment: { answered_count: number }
        }
      ).assessment.answered_count
    const realQuestions = [
      'collective_goal_clarity',
      'team_success_belief',
      'shared_future_vision',
      'joint_accountability',
    ].flatMap((force) => [`grpprosp.${force}.1`, `grpprosp.${force}.2`])

    /** Sends `jobs` (assessment id, question id) with `level` workers; returns the figures. */
    const run = async (level: number, jobs: [string, string][]) => {
      const latencies: number[] = []
      let failed = 0
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: level }, async () => {
          while (next < jobs.length) {
            const [id, question] = jobs[next++] ?? ['', '']
            const t0 = performance.now()
            const response = await fetch(`${base}/${id}/answers`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ question_id: question, answer: (next % 5) + 1 }),
            })
            await response.arrayBuffer()
            latencies.push(performance.now() - t0)
            if (response.status !== 200) failed++
          }
        }),
      )
      return { seconds: (performance.now() - started) / 1000, latencies, failed }
    }

    console.log(`${ANSWERS} answers per run over HTTP (real server, embedded database)`)
    console.log('  shape              concurrency   answers/s    p50 ms    p99 ms   non-200   lost')
    for (const level of LEVELS) {
      for (const shape of ['one assessment', 'real assessments'] as const) {
        const jobs: [string, string][] = []
        const ids: string[] = []
        if (shape === 'one assessment') {
          const id = await newAssessment()
          ids.push(id)
          for (let n = 1; n <= ANSWERS; n++) jobs.push([id, probe(n)])
        } else {
          for (let i = 0; i < Math.ceil(ANSWERS / realQuestions.length); i++) ids.push(await newAssessment())
          // Interleave assessments so concurrent workers hit different rows, as users would.
          for (const question of realQuestions) for (const id of ids) jobs.push([id, question])
          jobs.length = ANSWERS
        }
        const { seconds, latencies, failed } = await run(level, jobs)
        let stored = 0
        for (const id of ids) stored += await storedCount(id)
        const lost = ANSWERS - failed - stored
        console.log(
          `  ${shape.padEnd(17)}  ${String(level).padStart(11)}  ${(ANSWERS / seconds).toFixed(0).padStart(10)}  ${percentile(latencies, 50).toFixed(2).padStart(8)}  ${percentile(latencies, 99).toFixed(2).padStart(8)}  ${String(failed).padStart(8)}  ${String(lost).padStart(5)}`,
        )
      }
    }
  } finally {
    await server.stop()
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
