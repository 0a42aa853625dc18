import { parseArgs } from 'node:util'
import { median, percentile } from '@tests/bench/stats'
import { testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import type { AuthUser } from '@/lib/auth/types'

/**
 * bun run bench progress --part leaderboard [--users 100000] [--opt-in 0.7] [--requests 400]
 *                                           [--rounds 3]
 *
 * The global leaderboard over USERS users (auth users, profiles and summary rows written in SQL;
 * OPT_IN of them opted in, totals skewed like real ones — many low, few high, many ties), on the
 * embedded database in-process. Timed, REQUESTS times per round, alternating:
 * - service: LeaderboardService.global(top 100, the caller's own rank) — the two queries;
 * - http: GET /api/v1/gamification/leaderboard?limit=100 through the whole app (auth, routing,
 *   validation, JSON) via app.request, for a caller at the very bottom of the board (their rank
 *   is a count over every opted-in row ahead of them: the worst case).
 *  Ranks beyond the first 1,000 come from the snapshot of totals (see LeaderboardService).
 * The planner statistics are fresh (the hourly job runs ANALYZE on the embedded database).
 * Goal (issue 16): top-100 p95 ≤ 20 ms.
 */
export async function run(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '100000' },
      'opt-in': { type: 'string', default: '0.7' },
      requests: { type: 'string', default: '400' },
      rounds: { type: 'string', default: '3' },
    },
  })
  const USERS = Number(args.users)
  const OPT_IN = Number(args['opt-in'])
  const REQUESTS = Number(args.requests)
  const ROUNDS = Number(args.rounds)
  const GOAL_P95_MS = 20

  const t = await testApp(LOCAL_AUTH)
  const { db } = t.services
  const seedStart = performance.now()
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into auth.users (id, email)
       select gen_random_uuid(), 'board-' || n || '@bench.test' from generate_series(1, $1::int) n`,
      [USERS],
    )
    // The opt-in trigger writes the opted-in users' summary rows as the profiles go in.
    await tx.query(
      `insert into public.user_profiles (id, email, display_name, leaderboard_opt_in)
       select u.id, u.email, 'Player ' || split_part(u.email, '@', 1), random() < $1
         from auth.users u where u.email like 'board-%@bench.test'`,
      [OPT_IN],
    )
    await tx.query(
      `insert into public.points_summary (user_id, leaderboard_opt_in)
       select p.id, false from public.user_profiles p where p.email like 'board-%@bench.test'
       on conflict (user_id) do nothing`,
    )
    await tx.query(
      `update public.points_summary s set points = 5 + floor(power(random(), 3) * 6000)::int
         from public.user_profiles p where p.id = s.user_id and p.email like 'board-%@bench.test'`,
    )
    await tx.exec('analyze')
  })
  const seedSeconds = (performance.now() - seedStart) / 1000

  // The caller: opted in, with the fewest points of all.
  const caller = await newUser()
  await t.request('/api/v1/users/me', { headers: caller.headers })
  await db.asService((tx) =>
    tx.query('update public.user_profiles set leaderboard_opt_in = true where id = $1', [caller.id]),
  )
  const [counts] = await db.asService((tx) =>
    tx.query<{ opted: number; total: number }>(
      `select count(*) filter (where leaderboard_opt_in)::int as opted, count(*)::int as total from public.points_summary`,
    ),
  )
  const user = { id: caller.id, claims: { sub: caller.id, role: 'authenticated' } } as AuthUser

  const check = await t.services.leaderboard.global(user, 100)
  if (check.data.length !== 100 || check.me?.rank !== (counts?.opted ?? 0)) {
    throw new Error(`unexpected board: ${check.data.length} rows, me ${JSON.stringify(check.me)}`)
  }

  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const start = performance.now()
    await fn()
    return performance.now() - start
  }
  const service = () => t.services.leaderboard.global(user, 100)
  const http = async () => {
    const response = await t.request('/api/v1/gamification/leaderboard?limit=100', {
      headers: caller.headers,
    })
    if (response.status !== 200) throw new Error(`leaderboard answered ${response.status}`)
    await response.arrayBuffer()
  }
  for (let i = 0; i < 50; i++) {
    await service()
    await http()
  }

  const runs = { service: [] as number[][], http: [] as number[][] }
  for (let round = 0; round < ROUNDS; round++) {
    const s: number[] = []
    const h: number[] = []
    for (let i = 0; i < REQUESTS; i++) {
      s.push(await timed(service))
      h.push(await timed(http))
    }
    runs.service.push(s)
    runs.http.push(h)
  }
  const row = (label: string, rounds: number[][]) => {
    const p50 = median(rounds.map((r) => percentile(r, 50)))
    const p95 = median(rounds.map((r) => percentile(r, 95)))
    const p99 = median(rounds.map((r) => percentile(r, 99)))
    return `| ${label} | ${p50.toFixed(2)} | ${p95.toFixed(2)} | ${p99.toFixed(2)} | ${p95 <= GOAL_P95_MS ? 'yes' : 'no'} |`
  }
  console.log(
    `${counts?.total} summary rows (${counts?.opted} opted in), seeded in ${seedSeconds.toFixed(1)} s; ` +
      `caller ranked ${check.me?.rank}; ${ROUNDS} rounds × ${REQUESTS} requests each, medians of the rounds\n`,
  )
  console.log(`| top 100 + own rank | p50 ms | p95 ms | p99 ms | p95 ≤ ${GOAL_P95_MS} ms |`)
  console.log('|---|---|---|---|---|')
  console.log(row('LeaderboardService.global (in-process)', runs.service))
  console.log(row('GET /gamification/leaderboard (app.request)', runs.http))
  const plan = await db.asService((tx) =>
    tx.query<{ 'QUERY PLAN': string }>(
      `explain select s.user_id, s.points, rank() over (order by s.points desc)::int as rank
         from public.points_summary s where s.leaderboard_opt_in order by s.points desc, s.user_id limit 100`,
    ),
  )
  console.log(`\ntop-100 plan:\n${plan.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}`)
}
