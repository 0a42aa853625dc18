import { parseArgs } from 'node:util'
import { median, percentile } from '@tests/bench/stats'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPglite } from '@/lib/db/pglite'
import { ANALYTICS_SQL, AnalyticsService } from '@/services/admin/analytics'

/**
 * bun run bench progress --part analytics [--events 1000000] [--days 180] [--iterations 30]
 *
 * The admin analytics report (GET /api/v1/admin/analytics, in process: the service the route
 * calls) over an embedded database holding EVENTS activity events and, in proportion, users
 * (1 per 50 events), assessments (1 per 20; 70 % completed) and LLM usage records (1 per 10),
 * all written in SQL with dates spread over the last DAYS days, plus the daily-activity ledger
 * rows those events imply (one per user and UTC day with events). Then `analyze` (what the
 * embedded database's housekeeping runs; PGlite has no autovacuum) and the report for the last
 * 30 days ITERATIONS times after 3 warm-ups: p50/p95 of the whole report and the median of
 * each statement, and the EXPLAIN ANALYZE of the slowest statement. The same again after a
 * `vacuum` (visibility map set: index-only scans possible), as a server's autovacuum would leave it.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '180' },
      iterations: { type: 'string', default: '30' },
    },
  })
  const EVENTS = Number(values.events)
  const DAYS = Number(values.days)
  const ITERATIONS = Number(values.iterations)
  const USERS = Math.max(10, Math.round(EVENTS / 50))
  const ASSESSMENTS = Math.round(EVENTS / 20)
  const USAGE = Math.round(EVENTS / 10)

  const driver = await openPglite(':memory:')
  await bootstrap(driver)
  const db = withRoles(driver)
  await migrate(db, readMigrations(MIGRATIONS_DIR))

  const loadStarted = performance.now()
  await load(db, { events: EVENTS, users: USERS, assessments: ASSESSMENTS, usage: USAGE, days: DAYS })
  await db.transaction((tx) => tx.exec('analyze'))
  const loadSeconds = (performance.now() - loadStarted) / 1000

  const to = new Date()
  const from = new Date(to.getTime() - 30 * 86_400_000)
  const service = new AnalyticsService(db, () => to)
  const sample = await service.report({ from: from.toISOString(), to: to.toISOString() })

  console.log(
    `${EVENTS.toLocaleString('en')} events, ${USERS.toLocaleString('en')} users, ${ASSESSMENTS.toLocaleString('en')} assessments, ` +
      `${USAGE.toLocaleString('en')} usage records over ${DAYS} days (loaded in SQL in ${loadSeconds.toFixed(1)} s); ` +
      `report for the last 30 days (${sample.events.by_type.reduce((n, t) => n + t.count, 0).toLocaleString('en')} events, ` +
      `${sample.ai.requests.toLocaleString('en')} AI requests, ${sample.assessments.started.toLocaleString('en')} assessments started in it, ` +
      `${sample.users.active_1d}/${sample.users.active_7d}/${sample.users.active_30d} users active in 1/7/30 days), ` +
      `${ITERATIONS} calls after 3 warm-ups.\n`,
  )
  const rows: string[] = []
  let slowest = { name: '', ms: 0, plan: [] as string[] }
  for (const state of ['after analyze', 'after vacuum analyze'] as const) {
    // VACUUM refuses to run in a transaction: straight on the PGlite.
    if (state === 'after vacuum analyze') await driver.pglite.exec('vacuum analyze')
    const { report, statements } = await measure(db, service, from, to, ITERATIONS)
    const parts = Object.entries(statements)
      .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
      .join(' · ')
    rows.push(`| ${state} | ${median(report).toFixed(1)} | ${percentile(report, 95).toFixed(1)} | ${parts} |`)
    if (state === 'after analyze') {
      const [name, ms] = Object.entries(statements).sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
      slowest = { name, ms, plan: await explain(db, name, from, to) }
    }
  }
  console.log('| database | report p50 ms | report p95 ms | median per statement, ms |')
  console.log('|---|---:|---:|---|')
  for (const row of rows) console.log(row)

  console.log(`\nSlowest statement after analyze: ${slowest.name} (${slowest.ms.toFixed(1)} ms median):\n`)
  console.log('```')
  for (const line of slowest.plan) console.log(line)
  console.log('```')
  await driver.close()
}

async function explain(db: Database, name: string, from: Date, to: Date): Promise<string[]> {
  const sql = ANALYTICS_SQL[name as keyof typeof ANALYTICS_SQL]
  const params = name === 'users' ? [to.toISOString()] : [from.toISOString(), to.toISOString()]
  const plan = await db.asService((tx) =>
    tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers off, costs off) ${sql}`, params),
  )
  return plan.map((line) => line['QUERY PLAN'])
}

async function measure(db: Database, service: AnalyticsService, from: Date, to: Date, iterations: number) {
  const window = { from: from.toISOString(), to: to.toISOString() }
  for (let i = 0; i < 3; i++) await service.report(window)
  const report: number[] = []
  for (let i = 0; i < iterations; i++) {
    const started = performance.now()
    await service.report(window)
    report.push(performance.now() - started)
  }
  const statements: Record<string, number> = {}
  for (const [name, sql] of Object.entries(ANALYTICS_SQL)) {
    const params = name === 'users' ? [window.to] : [window.from, window.to]
    const times: number[] = []
    for (let i = 0; i < Math.min(iterations, 10); i++) {
      const started = performance.now()
      await db.asService((tx) => tx.query(sql, params))
      times.push(performance.now() - started)
    }
    statements[name] = median(times)
  }
  return { report, statements }
}

const TYPES = `array['page_view', 'pillar_selected', 'assessment_started', 'assessment_completed',
  'question_answered', 'modal_opened', 'modal_closed', 'navigation_click', 'recommendation_clicked',
  'activity_started', 'graph_interaction', 'chatbot_interaction', 'content_engagement', 'insight_viewed']`
const PILLARS = `array['divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp',
  'normexp', 'dirrecip', 'status', 'ownprosp', 'incresp']`

/** Everything in SQL (generate_series), the random dates seeded so each run writes the same rows. */
async function load(
  db: Database,
  n: { events: number; users: number; assessments: number; usage: number; days: number },
) {
  const span = `interval '${n.days} days'`
  await db.transaction(async (tx) => {
    await tx.query('select setseed(0.13)')
    await tx.exec(`
      create temp table bench_users (n integer primary key, id uuid not null);
      insert into bench_users select g, gen_random_uuid() from generate_series(1, ${n.users}) g;
      insert into auth.users (id, email) select id, 'u' || n || '@bench.test' from bench_users;
      insert into public.user_profiles (id, email, created_at, last_seen_at)
        select id, 'u' || n || '@bench.test', now() - random() * interval '365 days',
               case when n % 5 = 0 then null else now() - random() * interval '60 days' end
          from bench_users;
      insert into public.llm_usage (started_at, latency_ms, user_hash, feature, provider, model, attempt,
          failed_over, outcome, error_kind, input_tokens, output_tokens)
        select now() - random() * ${span}, 200 + (g % 1800), substr(md5(g::text), 1, 16),
               (array['chat', 'coaching', 'guidance', 'quiz'])[1 + g % 4],
               (array['openai', 'openai', 'anthropic', 'local'])[1 + g % 4],
               (array['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5', 'local'])[1 + g % 4],
               case when g % 20 = 0 then 2 else 1 end, g % 20 = 0,
               case when g % 25 = 0 then 'error' else 'ok' end,
               case when g % 25 = 0 then 'http_503' end,
               case when g % 25 = 0 then null else 500 + g % 1500 end,
               case when g % 25 = 0 then null else 50 + g % 400 end
          from generate_series(1, ${n.usage}) g;
    `)
  })
  await db.transaction((tx) =>
    tx.exec(`
      insert into public.assessment_sessions (user_id, pillar_id, mode, status, results, created_at, completed_at)
        select u.id, p.pillar, case when p.i <= 5 then 'egalitarian' else 'hierarchical' end,
               case when a.done then 'completed' else 'in_progress' end,
               case when a.done then jsonb_build_object('pillar_score', round((random() * 100)::numeric, 2),
                 'force_scores', '{}'::jsonb, 'answered', 8, 'total', 8) end,
               a.created, case when a.done then a.created + random() * interval '2 hours' end
          from (select g, now() - random() * ${span} as created, random() < 0.7 as done
                  from generate_series(1, ${n.assessments}) g) a
          join bench_users u on u.n = 1 + a.g % ${n.users}
          join (select i, (${PILLARS})[i] as pillar from generate_series(1, 10) i) p on p.i = 1 + a.g % 10;
    `),
  )
  // In slices: one statement of 1,000,000 rows holds all of them in one WASM heap at once.
  const slice = 200_000
  for (let start = 0; start < n.events; start += slice) {
    const end = Math.min(n.events, start + slice)
    await db.transaction((tx) =>
      tx.exec(`
        insert into public.events (user_id, id, type, occurred_at, received_at, session_id, page, pillar_id)
          select u.id, gen_random_uuid(), (${TYPES})[1 + (e.g * 7 + e.g / 13) % 14], e.at, e.at,
                 's' || (e.g / 20), '/pillars', case when e.g % 3 = 0 then (${PILLARS})[1 + e.g % 10] end
            from (select g, now() - random() * ${span} as at from generate_series(${start + 1}, ${end}) g) e
            join bench_users u on u.n = 1 + e.g % ${n.users};
      `),
    )
  }
  // The daily-activity award each event batch brings: one ledger row per user and UTC day with
  // events, dated at that day's first (what progress_note_activity writes).
  await db.transaction((tx) =>
    tx.exec(`
      insert into public.points_ledger (user_id, points, reason, cause_key, created_at)
        select user_id, 5, 'daily_activity', 'daily:' || day::text, first
          from (select user_id, (received_at at time zone 'UTC')::date as day, min(received_at) as first
                  from public.events group by 1, 2) d;
    `),
  )
}
