import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median, percentile, seeded } from '@tests/bench/stats'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { loadConfig } from '@/config'
import { MIGRATIONS_DIR } from '@/container'
import { localUserId, signLocalToken } from '@/lib/auth/local-tokens'
import type { Database } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openDatabase } from '@/lib/db/open'
import { scoreAssessment } from '@/services/assessments/scoring'

/**
 * bun run bench teams [--members 1000] [--requests 400] [--concurrency 16] [--iterations 100]
 *                     [--rounds 3] [--joins 200] [--cap 150] [--seed 13]
 *
 * 1. Results of a team round: a team of MEMBERS members who all completed the round's
 *    assessment (rows written in SQL before the server starts, scored by the real
 *    scoreAssessment over random Likert answers), the round closed through the real server, then
 *    - GET …/rounds/:round_id/results over HTTP, sequentially and at CONCURRENCY;
 *    - in-process over the same embedded database (the server holds its lock, so after it
 *      stops): the naive aggregate (fetch every completed assessment's results, aggregate in
 *      TypeScript), the SQL aggregate itself (_team_round_aggregate) and the frozen read the
 *      route runs (team_round_results as a member); the naive aggregate must equal the SQL one.
 * 2. JOINS distinct users join one team by its invite code at once, the server started with
 *    TEAM_MAX_MEMBERS=CAP and the team holding only its owner: exactly CAP − 1 are admitted.
 * Every measurement is repeated ROUNDS times; the tables show the medians.
 */
const { values: args } = parseArgs({
  options: {
    members: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    iterations: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    joins: { type: 'string', default: '200' },
    cap: { type: 'string', default: '150' },
    seed: { type: 'string', default: '13' },
  },
})
const MEMBERS = Number(args.members)
const REQUESTS = Number(args.requests)
const CONCURRENCY = Number(args.concurrency)
const ITERATIONS = Number(args.iterations)
const ROUNDS = Number(args.rounds)
const JOINS = Number(args.joins)
const CAP = Number(args.cap)
const GOAL_P95_MS = 50
const SECRET = 'bench-local-secret-0123456789-abcdefgh'
const PILLAR = 'grpprosp'
const MODE = 'egalitarian'
const OWNER_EMAIL = 'owner@bench.test'
const OWNER_ID = localUserId(OWNER_EMAIL)

// ---------------------------------------------------------------------------------------------
// Figures

interface Figures {
  p50: number
  p95: number
  p99: number
  perSecond: number
  failed: number
}
const figures = (latencies: number[], seconds: number, failed = 0): Figures => ({
  p50: percentile(latencies, 50),
  p95: percentile(latencies, 95),
  p99: percentile(latencies, 99),
  perSecond: latencies.length / seconds,
  failed,
})
/** The median of each figure over the rounds (a noisy 2-core machine: one round proves little). */
const medianFigures = (runs: Figures[]): Figures => ({
  p50: median(runs.map((r) => r.p50)),
  p95: median(runs.map((r) => r.p95)),
  p99: median(runs.map((r) => r.p99)),
  perSecond: median(runs.map((r) => r.perSecond)),
  failed: runs.reduce((sum, r) => sum + r.failed, 0),
})
const ms = (value: number) => value.toFixed(2).padStart(8)

// ---------------------------------------------------------------------------------------------
// The naive aggregate: what an application would do without the SQL function. Same definitions
// as _team_round_aggregate: population sd, consensus = 1 − sd/50 clamped, a force only when at
// least `min` members answered it. Sums run in integer hundredths (every score has two
// decimals), so the rounding matches Postgres' numeric arithmetic exactly.

interface Aggregate {
  n: number
  pillar: { mean: number; sd: number; min: number | null; max: number | null }
  forces: Record<string, { n: number; mean: number; sd: number; consensus: number }>
}
interface Stored {
  pillar_score: number
  force_scores: Record<string, number>
}

function moments(hundredths: number[]) {
  const n = hundredths.length
  let sum = 0
  let squares = 0
  for (const x of hundredths) {
    sum += x
    squares += x * x
  }
  // n²·variance, exact in integers; sd in hundredths is its root over n.
  const sd = n === 0 ? 0 : Math.sqrt(Math.max(0, n * squares - sum * sum)) / n
  return { n, mean: n === 0 ? 0 : sum / n, sd }
}

function naiveAggregate(rows: readonly Stored[], min: number): Aggregate {
  const pillar: number[] = []
  const byForce = new Map<string, number[]>()
  for (const row of rows) {
    pillar.push(Math.round(row.pillar_score * 100))
    for (const [force, score] of Object.entries(row.force_scores)) {
      const list = byForce.get(force) ?? []
      list.push(Math.round(score * 100))
      byForce.set(force, list)
    }
  }
  const p = moments(pillar)
  const forces: Aggregate['forces'] = {}
  for (const [force, values] of byForce) {
    if (values.length < min) continue
    const f = moments(values)
    forces[force] = {
      n: f.n,
      mean: Math.round(f.mean) / 100,
      sd: Math.round(f.sd) / 100,
      // 1 − (sd/100)/50, to four decimals: (10000 − 2·sd_hundredths) / 10000.
      consensus: Math.max(0, Math.min(10_000, Math.round(10_000 - 2 * f.sd))) / 10_000,
    }
  }
  return {
    n: p.n,
    pillar: {
      mean: Math.round(p.mean) / 100,
      sd: Math.round(p.sd) / 100,
      // Each is one member's own score: the SQL shows them only from 5 completions.
      min: p.n >= 5 ? Math.min(...pillar) / 100 : null,
      max: p.n >= 5 ? Math.max(...pillar) / 100 : null,
    },
    forces,
  }
}

/** Structural equality of two aggregates, numbers compared as numbers (52.50 = 52.5). */
function sameAggregate(a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return a === b
  if (typeof a === 'number' || typeof b === 'number' || typeof a === 'string' || typeof b === 'string')
    return Number(a) === Number(b)
  if (typeof a !== 'object' || typeof b !== 'object') return a === b
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return (
    ka.length === kb.length &&
    ka.every(
      (k, i) =>
        k === kb[i] && sameAggregate((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  )
}

// ---------------------------------------------------------------------------------------------
// Data: users, one team per scenario, rounds and completed assessments, all in SQL as the owner.

interface Scenario {
  label: string
  teamId: string
  roundId: string
  /** Completed assessments in the round. */
  completed: number
  /** How the bench leaves it: closed by POST …/close, or open (counts only). */
  state: 'close' | 'open'
}

const memberEmail = (i: number) => `member-${i}@bench.test`

async function prepare(db: Database, random: () => number): Promise<Scenario[]> {
  const questions = await db.transaction((tx) =>
    tx.query<{ id: string; force_key: string }>(
      'select id, force_key from public.assessment_questions where pillar_id = $1 order by position',
      [PILLAR],
    ),
  )
  if (questions.length === 0) throw new Error(`no questions for ${PILLAR}`)
  const users = [
    { id: OWNER_ID, email: OWNER_EMAIL, name: 'Bench Owner' },
    ...Array.from({ length: MEMBERS - 1 }, (_, i) => ({
      id: localUserId(memberEmail(i + 1)),
      email: memberEmail(i + 1),
      name: `Member ${i + 1}`,
    })),
  ]

  /** One member's answers: a personal tendency plus noise, on the Likert scale. */
  const answerSheet = () => {
    const tendency = 1 + random() * 4
    const answers: Record<string, number> = {}
    for (const q of questions)
      answers[q.id] = Math.min(5, Math.max(1, Math.round(tendency + (random() - 0.5) * 2.5)))
    return answers
  }

  /** A round of the team with `completed` members' completed assessments (the first ones). */
  const round = async (teamId: string, name: string, completed: number) => {
    const roundId = crypto.randomUUID()
    const sessions = users.slice(0, completed).map((user, i) => {
      const answers = answerSheet()
      const completedAt = new Date(Date.now() - 3_600_000 + i * 1_000).toISOString()
      const results = scoreAssessment(questions, answers)
      return {
        id: crypto.randomUUID(),
        user_id: user.id,
        responses: Object.fromEntries(
          Object.entries(answers).map(([qid, answer]) => [qid, { answer, answered_at: completedAt }]),
        ),
        results,
        completed_at: completedAt,
      }
    })
    await db.transaction(async (tx) => {
      await tx.query(
        `insert into public.team_rounds (id, team_id, name, pillar_id, mode, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, now() - interval '2 hours')`,
        [roundId, teamId, name, PILLAR, MODE, OWNER_ID],
      )
      await tx.query(
        `insert into public.assessment_sessions (id, user_id, pillar_id, mode, status, responses, results,
                                                 created_at, completed_at)
         select s.id, s.user_id, $2, $3, 'completed', s.responses, s.results,
                s.completed_at - interval '10 minutes', s.completed_at
           from jsonb_to_recordset($1::text::jsonb)
             as s(id uuid, user_id uuid, responses jsonb, results jsonb, completed_at timestamptz)`,
        [JSON.stringify(sessions), PILLAR, MODE],
      )
      await tx.query(
        `insert into public.team_round_participants (round_id, user_id, assessment_id, created_at)
         select $1, s.user_id, s.id, s.completed_at - interval '10 minutes'
           from jsonb_to_recordset($2::text::jsonb) as s(id uuid, user_id uuid, completed_at timestamptz)`,
        [
          roundId,
          JSON.stringify(sessions.map(({ id, user_id, completed_at }) => ({ id, user_id, completed_at }))),
        ],
      )
    })
    return roundId
  }

  const team = async (name: string) => {
    const teamId = crypto.randomUUID()
    await db.transaction(async (tx) => {
      await tx.query('insert into public.teams (id, name, owner_id) values ($1, $2, $3)', [
        teamId,
        name,
        OWNER_ID,
      ])
      await tx.query(
        `insert into public.team_members (team_id, user_id, role, joined_at)
         select $1, u.id, case when u.id = $2 then 'owner' else 'member' end, now() - interval '1 day'
           from jsonb_to_recordset($3::text::jsonb) as u(id uuid)`,
        [teamId, OWNER_ID, JSON.stringify(users.map(({ id }) => ({ id })))],
      )
    })
    return teamId
  }

  await db.transaction(async (tx) => {
    const rows = JSON.stringify(users)
    await tx.query(
      `insert into auth.users (id, email) select u.id, u.email
         from jsonb_to_recordset($1::text::jsonb) as u(id uuid, email text)`,
      [rows],
    )
    await tx.query(
      `insert into public.user_profiles (id, email, display_name) select u.id, u.email, u.name
         from jsonb_to_recordset($1::text::jsonb) as u(id uuid, email text, name text)`,
      [rows],
    )
  })

  // A: the headline. Every member completed; the team has no other round.
  const teamA = await team('Bench team A')
  const roundA = await round(teamA, 'Everyone completed', MEMBERS)
  // B: a round one member short, closed by the route, beside an open round that every read of
  // the team settles first (is it due?), and whose results are then counts only.
  const teamB = await team('Bench team B')
  const roundB = await round(teamB, 'One short, closed', MEMBERS - 1)
  const roundOpen = await round(teamB, 'One short, still open', MEMBERS - 1)
  return [
    { label: `A closed, n=${MEMBERS}`, teamId: teamA, roundId: roundA, completed: MEMBERS, state: 'close' },
    {
      label: `B closed, n=${MEMBERS - 1}, +1 open`,
      teamId: teamB,
      roundId: roundB,
      completed: MEMBERS - 1,
      state: 'close',
    },
    {
      label: `B open (counts only)`,
      teamId: teamB,
      roundId: roundOpen,
      completed: MEMBERS - 1,
      state: 'open',
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Load

/** `total` GETs of `url` by `level` workers; latencies in ms. */
async function load(url: string, headers: Record<string, string>, level: number, total: number) {
  const latencies: number[] = []
  let failed = 0
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: level }, async () => {
      while (next < total) {
        next++
        const t0 = performance.now()
        let response: Response
        try {
          response = await fetch(url, { headers })
        } catch (error) {
          throw new Error(`GET ${url} failed after ${latencies.length} of ${total} (${level} in flight)`, {
            cause: error,
          })
        }
        await response.arrayBuffer()
        latencies.push(performance.now() - t0)
        if (response.status !== 200) failed++
      }
    }),
  )
  return figures(latencies, (performance.now() - started) / 1000, failed)
}

/** Times `fn` `iterations` times in a row (one in flight: PGlite is one connection). */
async function timed(iterations: number, fn: () => Promise<unknown>) {
  const latencies: number[] = []
  const started = performance.now()
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now()
    await fn()
    latencies.push(performance.now() - t0)
  }
  return figures(latencies, (performance.now() - started) / 1000)
}

const openDb = async (dataDir: string, env: Record<string, string> = {}) => {
  const parsed = loadConfig({ DATA_DIR: dataDir, ...env })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  return openDatabase(parsed.config.database)
}

// ---------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-teams-'))
const say = (line = '') => console.log(line)
try {
  const prepStarted = performance.now()
  const setup = await openDb(dataDir)
  await migrate(setup, readMigrations(MIGRATIONS_DIR))
  const scenarios = await prepare(setup, seeded(Number(args.seed)))
  await setup.close()
  const [headline] = scenarios
  if (!headline) throw new Error('no scenario')
  console.log(
    `prepared ${MEMBERS} users, 2 teams of ${MEMBERS}, ${scenarios.reduce((s, x) => s + x.completed, 0)} completed assessments in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s`,
  )

  // ---- 1a. Results over HTTP ----------------------------------------------------------------
  const ownerToken = await signLocalToken(SECRET, { email: OWNER_EMAIL, ttlSeconds: 3_600 })
  const ownerHeaders = { authorization: `Bearer ${ownerToken}` }
  const resultsUrl = (base: string, s: Scenario) =>
    `${base}/api/v1/teams/${s.teamId}/rounds/${s.roundId}/results`
  const http = new Map<string, { sequential: Figures[]; concurrent: Figures[] }>()
  const closing: { scenario: Scenario; line: string; answeredAt: number; closedBy?: string }[] = []
  let httpResults: unknown
  {
    const server = await spawnBenchServer({
      DATA_DIR: dataDir,
      LOCAL_JWT_SECRET: SECRET,
      TEAM_MAX_MEMBERS: String(Math.max(MEMBERS, CAP)),
    })
    try {
      for (const s of scenarios) {
        if (s.state !== 'close') continue
        const t0 = performance.now()
        const response = await fetch(`${server.base}/api/v1/teams/${s.teamId}/rounds/${s.roundId}/close`, {
          method: 'POST',
          headers: ownerHeaders,
        })
        const body = (await response.json()) as { round?: { status: string }; error?: { message?: string } }
        const closeMs = performance.now() - t0
        const answeredAt = Date.now()
        // Then read it once: when every member completed, the read settles the round (the
        // contract's "closes by itself"), should the close route not have.
        const t1 = performance.now()
        const first = (await (await fetch(resultsUrl(server.base, s), { headers: ownerHeaders })).json()) as {
          round: { status: string }
          visible: boolean
          results: unknown
        }
        const firstMs = performance.now() - t1
        closing.push({
          scenario: s,
          answeredAt,
          line: `  ${s.label}: POST …/close → ${response.status}${response.ok ? '' : ` (${body.error?.message ?? '?'})`} in ${closeMs.toFixed(1)} ms; first GET …/results → ${first.round.status}, visible ${first.visible}, in ${firstMs.toFixed(1)} ms`,
        })
        if (first.round.status !== 'closed' || !first.visible)
          throw new Error(`${s.label}: the round did not close with visible results`)
        if (s === headline) httpResults = first.results
      }
      const warm = (s: Scenario) => load(resultsUrl(server.base, s), ownerHeaders, 4, 100)
      for (const s of scenarios) await warm(s)
      for (let r = 0; r < ROUNDS; r++) {
        for (const s of scenarios) {
          const entry = http.get(s.label) ?? { sequential: [], concurrent: [] }
          entry.sequential.push(await load(resultsUrl(server.base, s), ownerHeaders, 1, REQUESTS))
          entry.concurrent.push(
            await load(resultsUrl(server.base, s), ownerHeaders, CONCURRENCY, REQUESTS * 4),
          )
          http.set(s.label, entry)
        }
      }
    } finally {
      await server.stop()
    }
  }

  // ---- 1b. In-process over the same database (the server released its lock) -----------------
  const inProcess = new Map<string, Figures[]>()
  let equalities: [string, boolean][] = []
  {
    const db = await openDb(dataDir)
    try {
      const owner = { sub: OWNER_ID, role: 'authenticated', email: OWNER_EMAIL }
      // Which call froze each round: its closed_at against the moment POST …/close answered.
      for (const entry of closing) {
        const [row] = await db.transaction((tx) =>
          tx.query<{ closed_at: Date | string }>('select closed_at from public.team_rounds where id = $1', [
            entry.scenario.roundId,
          ]),
        )
        const closedAt = row ? new Date(row.closed_at).getTime() : Number.NaN
        entry.closedBy =
          closedAt <= entry.answeredAt
            ? 'frozen by POST …/close'
            : `frozen by the first GET (closed_at ${closedAt - entry.answeredAt} ms after POST …/close answered)`
      }
      const fetchRows = () =>
        db.asService((tx) =>
          tx.query<{ results: Stored }>(
            `select s.results
               from public.team_round_participants p
               join public.assessment_sessions s on s.id = p.assessment_id
              where p.round_id = $1 and s.status = 'completed'`,
            [headline.roundId],
          ),
        )
      const naive = async () =>
        naiveAggregate(
          (await fetchRows()).map((r) => r.results),
          3,
        )
      const sqlAggregate = () =>
        db.transaction(async (tx) => {
          const [row] = await tx.query<{ a: Aggregate }>(
            'select public._team_round_aggregate($1, now(), 3) as a',
            [headline.roundId],
          )
          return row?.a
        })
      const frozenRead = () =>
        db.asUser(owner, (tx) => tx.query('select public.team_round_results($1) as r', [headline.roundId]))
      const rowsOnce = (await fetchRows()).map((r) => r.results)
      const [frozen] = await db.transaction((tx) =>
        tx.query<{ results: Aggregate }>('select results from public.team_rounds where id = $1', [
          headline.roundId,
        ]),
      )
      const mine = await naive()
      equalities = [
        ['naive TS = _team_round_aggregate', sameAggregate(mine, await sqlAggregate())],
        ['naive TS = frozen team_rounds.results', sameAggregate(mine, frozen?.results)],
        ['naive TS = HTTP results', sameAggregate(mine, httpResults)],
      ]
      const cases: [string, () => Promise<unknown>][] = [
        [`naive TS: fetch ${rowsOnce.length} rows as service + aggregate`, naive],
        ['  of which: aggregate in JS only', async () => naiveAggregate(rowsOnce, 3)],
        ['SQL aggregate: _team_round_aggregate(…)', sqlAggregate],
        ['frozen read: team_round_results() as member', frozenRead],
      ]
      for (const [, fn] of cases) await timed(10, fn)
      for (let r = 0; r < ROUNDS; r++)
        for (const [label, fn] of cases)
          inProcess.set(label, [...(inProcess.get(label) ?? []), await timed(ITERATIONS, fn)])
    } finally {
      await db.close()
    }
  }

  // ---- 2. Concurrent joins under the cap ---------------------------------------------------
  const joinRuns: {
    admitted: number
    refused: number
    other: Map<number, number>
    seconds: number
    members: number
  }[] = []
  {
    const server = await spawnBenchServer({
      DATA_DIR: dataDir,
      LOCAL_JWT_SECRET: SECRET,
      TEAM_MAX_MEMBERS: String(CAP),
    })
    try {
      const json = { ...ownerHeaders, 'content-type': 'application/json' }
      for (let r = 0; r < ROUNDS; r++) {
        const created = (await (
          await fetch(`${server.base}/api/v1/teams`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ name: `Join race ${r + 1}` }),
          })
        ).json()) as { team: { id: string } }
        const teamId = created.team.id
        const { code } = (await (
          await fetch(`${server.base}/api/v1/teams/${teamId}/invite-code`, { method: 'POST', headers: json })
        ).json()) as { code: string }
        const tokens = await Promise.all(
          Array.from({ length: JOINS }, (_, i) =>
            signLocalToken(SECRET, { email: `joiner-${r}-${i}@bench.test`, ttlSeconds: 3_600 }),
          ),
        )
        // Each token's first request creates its user (auth.users, user_profiles): done here,
        // beforehand, so the race measures joins only.
        for (const token of tokens) {
          const response = await fetch(`${server.base}/api/v1/teams`, {
            headers: { authorization: `Bearer ${token}` },
          })
          await response.arrayBuffer()
          if (response.status !== 200) throw new Error(`warm-up: ${response.status}`)
        }
        const started = performance.now()
        const statuses = await Promise.all(
          tokens.map(async (token) => {
            const response = await fetch(`${server.base}/api/v1/teams/join`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ code }),
            })
            await response.arrayBuffer()
            return response.status
          }),
        )
        const seconds = (performance.now() - started) / 1000
        const team = (await (
          await fetch(`${server.base}/api/v1/teams/${teamId}`, { headers: ownerHeaders })
        ).json()) as {
          team: { member_count: number }
        }
        const other = new Map<number, number>()
        for (const status of statuses)
          if (status !== 200 && status !== 409) other.set(status, (other.get(status) ?? 0) + 1)
        joinRuns.push({
          admitted: statuses.filter((s) => s === 200).length,
          refused: statuses.filter((s) => s === 409).length,
          other,
          seconds,
          members: team.team.member_count,
        })
      }
    } finally {
      await server.stop()
    }
  }

  // ---- Report --------------------------------------------------------------------------------
  say()
  say(`Team round results — ${MEMBERS}-member teams, pillar ${PILLAR}; medians of ${ROUNDS} rounds`)
  say('Closing:')
  for (const entry of closing) say(`${entry.line}\n      → ${entry.closedBy ?? '?'}`)
  say()
  say(
    `GET /api/v1/teams/:id/rounds/:round_id/results over HTTP (real server, embedded database, owner's token)`,
  )
  say('  round                         conc  requests    p50 ms    p95 ms    p99 ms     req/s  non-200')
  for (const s of scenarios) {
    const entry = http.get(s.label)
    if (!entry) continue
    for (const [level, runs, count] of [
      [1, entry.sequential, REQUESTS],
      [CONCURRENCY, entry.concurrent, REQUESTS * 4],
    ] as const) {
      const f = medianFigures([...runs])
      say(
        `  ${s.label.padEnd(28)} ${String(level).padStart(4)}  ${String(count).padStart(8)}  ${ms(f.p50)}  ${ms(f.p95)}  ${ms(f.p99)}  ${f.perSecond.toFixed(0).padStart(8)}  ${String(f.failed).padStart(7)}`,
      )
    }
  }
  say()
  say(`In-process, same embedded database after the server stopped (no HTTP, no token check, one at a time)`)
  say('  what                                              p50 ms    p95 ms    p99 ms     ops/s')
  for (const [label, runs] of inProcess) {
    const f = medianFigures(runs)
    say(
      `  ${label.padEnd(48)} ${ms(f.p50)}  ${ms(f.p95)}  ${ms(f.p99)}  ${f.perSecond.toFixed(0).padStart(8)}`,
    )
  }
  for (const [label, ok] of equalities) say(`  ${label.padEnd(40)} equal: ${ok ? 'yes' : 'NO'}`)
  const goal = medianFigures(http.get(headline.label)?.sequential ?? [])
  const goalConcurrent = medianFigures(http.get(headline.label)?.concurrent ?? [])
  say()
  say(
    `Goal: GET …/results p95 ≤ ${GOAL_P95_MS} ms on the embedded database — ${headline.label}: p95 ${goal.p95.toFixed(2)} ms sequential (${goal.p95 <= GOAL_P95_MS ? 'met' : 'NOT met'}), ${goalConcurrent.p95.toFixed(2)} ms at concurrency ${CONCURRENCY} (${goalConcurrent.p95 <= GOAL_P95_MS ? 'met' : 'NOT met'})`,
  )
  say()
  say(
    `${JOINS} concurrent POST /api/v1/teams/join, one invite code, TEAM_MAX_MEMBERS=${CAP}, a team of 1 (users created beforehand)`,
  )
  say('  run   admitted  409 refused  other     wall ms    joins/s  members after')
  joinRuns.forEach((run, i) => {
    const other = [...run.other].map(([status, n]) => `${status}×${n}`).join(',') || '0'
    say(
      `  ${String(i + 1).padStart(3)}  ${String(run.admitted).padStart(9)}  ${String(run.refused).padStart(11)}  ${other.padStart(5)}  ${ms(run.seconds * 1000).padStart(10)}  ${(JOINS / run.seconds).toFixed(0).padStart(9)}  ${String(run.members).padStart(13)}`,
    )
  })
  const exact = joinRuns.every((r) => r.admitted === CAP - 1 && r.members === CAP && r.other.size === 0)
  say(
    `  median: wall ${median(joinRuns.map((r) => r.seconds * 1000)).toFixed(0)} ms, ${median(joinRuns.map((r) => JOINS / r.seconds)).toFixed(0)} joins/s; admitted exactly ${CAP - 1} every run: ${exact ? 'yes' : 'NO'}`,
  )
  if (!exact || equalities.some(([, ok]) => !ok)) process.exitCode = 1
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
