import { parseArgs } from 'node:util'
import { median, percentile } from '@tests/bench/stats'
import { testApp } from '@tests/helpers/app'
import { LOCAL_AUTH } from '@tests/helpers/auth'
import type { AuthUser } from '@/lib/auth/types'
import { QuestionBank } from '@/services/assessments/question-bank'
import { AssessmentService } from '@/services/assessments/service'
import { AssessmentStore } from '@/services/assessments/store'

/**
 * bun run bench progress --part completion [--iterations 150] [--rounds 3]
 *
 * The ledger's cost on the answer path: AssessmentService.complete() in-process on the embedded
 * database, with the awards in its transaction (the container's service) and without (the same
 * service built with no awards), alternating within each round so both see the same machine.
 * "with, first" is a new user's first completion (summary row created, 100 + first-in-mode 50 +
 * the day's 5, badges evaluated); "with, repeat" a later one of the same pillar by one user
 * (50, day already noted). Only complete() is timed: each assessment is created and answered
 * (all 8 questions) before the clock starts.
 */
export async function run(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      iterations: { type: 'string', default: '150' },
      rounds: { type: 'string', default: '3' },
    },
  })
  const ITERATIONS = Number(args.iterations)
  const ROUNDS = Number(args.rounds)
  const t = await testApp(LOCAL_AUTH)
  const { db } = t.services
  const bank = await QuestionBank.load(db)
  const withAwards = t.services.assessments
  const without = new AssessmentService(new AssessmentStore(db), bank)
  const questions = bank.forPillar('indrecip')

  const newUser = async (): Promise<AuthUser> => {
    const id = crypto.randomUUID()
    await db.transaction((tx) =>
      tx.query('insert into auth.users (id, email) values ($1, $2)', [id, `${id}@bench.test`]),
    )
    return { id, claims: { sub: id, role: 'authenticated' } } as AuthUser
  }
  const answered = async (user: AuthUser): Promise<string> => {
    const assessment = await without.create(user, 'indrecip', 'egalitarian')
    for (const [i, q] of questions.entries()) await without.answer(user, assessment.id, q.id, (i % 5) + 1)
    return assessment.id
  }
  const timedComplete = async (service: AssessmentService, user: AuthUser): Promise<number> => {
    const id = await answered(user)
    const start = performance.now()
    await service.complete(user, id)
    return performance.now() - start
  }

  const repeater = await newUser()
  await timedComplete(withAwards, repeater) // its first completion, so the timed ones are repeats
  const runs = { without: [] as number[][], first: [] as number[][], repeat: [] as number[][] }
  for (let round = 0; round < ROUNDS; round++) {
    const w: number[] = []
    const f: number[] = []
    const r: number[] = []
    for (let i = 0; i < ITERATIONS; i++) {
      w.push(await timedComplete(without, await newUser()))
      f.push(await timedComplete(withAwards, await newUser()))
      r.push(await timedComplete(withAwards, repeater))
    }
    runs.without.push(w)
    runs.first.push(f)
    runs.repeat.push(r)
  }
  const stat = (rounds: number[][], p: number) => median(rounds.map((x) => percentile(x, p)))
  const base = stat(runs.without, 50)
  console.log(`${ROUNDS} rounds × ${ITERATIONS} completions each, alternating; medians of the rounds\n`)
  console.log('| complete() | p50 ms | p95 ms | p50 vs without |')
  console.log('|---|---|---|---|')
  for (const [label, rounds] of [
    ['without awards', runs.without],
    ['with awards, first completion', runs.first],
    ['with awards, a repeat', runs.repeat],
  ] as const) {
    console.log(
      `| ${label} | ${stat(rounds, 50).toFixed(2)} | ${stat(rounds, 95).toFixed(2)} | ×${(stat(rounds, 50) / base).toFixed(2)} |`,
    )
  }
}
