import type { Database, Tx } from '@/lib/db/database'
import { invalid } from '@/lib/errors/domain'

const DAY_MS = 86_400_000
/** The window when the query names no `from`: the 30 days before `to`. */
export const ANALYTICS_DEFAULT_DAYS = 30
/** The longest window one report may cover. */
export const ANALYTICS_MAX_DAYS = 366

export interface AnalyticsWindow {
  from?: string
  to?: string
}

export interface AnalyticsReport {
  users: { total: number; active_1d: number; active_7d: number; active_30d: number }
  assessments: {
    started: number
    completed: number
    completion_rate: number
    by_pillar: { pillar_id: string; mode: string; completed: number; mean_score: number }[]
  }
  ai: {
    requests: number
    failovers: number
    by_provider: {
      provider: string
      model: string
      requests: number
      input_tokens: number
      output_tokens: number
    }[]
  }
  events: { by_type: { type: string; count: number }[] }
}

/** The years a window may name (UTC, after the offset is applied). */
export const ANALYTICS_MIN_YEAR = 1970
export const ANALYTICS_MAX_YEAR = 9999
const MIN_INSTANT = Date.UTC(ANALYTICS_MIN_YEAR, 0, 1)
const MAX_INSTANT = Date.UTC(ANALYTICS_MAX_YEAR + 1, 0, 1)

/**
 * A query date as an instant inside years 1970..9999 UTC. Outside them the ISO text JS prints
 * for the SQL parameter is one Postgres refuses (year 0000, or +010000-… for 9999-12-31 at a
 * negative offset) — a 500 — so it is a 400 here instead.
 */
function instant(value: string, field: 'from' | 'to'): Date {
  const at = new Date(value)
  const ms = at.getTime()
  if (Number.isNaN(ms)) {
    throw invalid('from and to must be ISO 8601 date-times', [
      { field: `query.${field}`, message: 'Not a date-time' },
    ])
  }
  if (ms < MIN_INSTANT || ms >= MAX_INSTANT) {
    throw invalid(`from and to must lie in the years ${ANALYTICS_MIN_YEAR}..${ANALYTICS_MAX_YEAR} (UTC)`, [
      {
        field: `query.${field}`,
        message: `Must be in the years ${ANALYTICS_MIN_YEAR}..${ANALYTICS_MAX_YEAR} (UTC)`,
      },
    ])
  }
  return at
}

/**
 * `to` defaults to now, `from` to 30 days before `to` (never before 1970); the window is
 * [from, to), ≤ 366 days, within the years 1970..9999 UTC.
 */
export function resolveWindow(query: AnalyticsWindow, now: Date): { from: Date; to: Date } {
  const to = query.to ? instant(query.to, 'to') : now
  const from = query.from
    ? instant(query.from, 'from')
    : new Date(Math.max(MIN_INSTANT, to.getTime() - ANALYTICS_DEFAULT_DAYS * DAY_MS))
  if (from >= to)
    throw invalid('from must be before to', [{ field: 'query.from', message: 'Must be before to' }])
  if (to.getTime() - from.getTime() > ANALYTICS_MAX_DAYS * DAY_MS) {
    throw invalid(`the window may span at most ${ANALYTICS_MAX_DAYS} days`, [
      { field: 'query.from', message: `At most ${ANALYTICS_MAX_DAYS} days before to` },
    ])
  }
  return { from, to }
}

/**
 * Each query is an aggregate over stored rows, shaped for an index: user_profiles on created_at,
 * events on (received_at, type), the daily-activity rows of points_ledger on (created_at,
 * user_id), assessment_sessions on created_at and completed_at, llm_usage on started_at — so the
 * cost grows with the rows inside the window, not with the tables. Every time filtered on is
 * the server's and every row counted is append-only (events, ledger) or dated once, so a past
 * window's figures never change later. Sums are float8, exact to 2^53, so both adapters return
 * numbers (bigint would come back as a string from one of them).
 */
// Active: a user with an event received, or a daily-activity award (the first activity of a UTC
// day the server noted: an event batch or any authenticated write), in [to − N days, to). Not
// last_seen_at: it keeps only the latest sighting, so a past window would lose every user seen
// again since. One pass over the 30 days: each user's latest activity in them, then N-day counts.
const USERS = `
  with activity as (
    select user_id, received_at as at from public.events
     where received_at >= $1::timestamptz - interval '30 days' and received_at < $1
    union all
    select user_id, created_at from public.points_ledger
     where reason = 'daily_activity'
       and created_at >= $1::timestamptz - interval '30 days' and created_at < $1
  ), latest as (
    select user_id, max(at) as at from activity group by user_id
  )
  select (select count(*) from public.user_profiles where created_at < $1)::int as total,
    count(*) filter (where at >= $1::timestamptz - interval '1 day')::int as active_1d,
    count(*) filter (where at >= $1::timestamptz - interval '7 days')::int as active_7d,
    count(*)::int as active_30d
  from latest`

const ASSESSMENTS = `
  with started as (
    select count(*)::int as started, count(*) filter (where completed_at < $2)::int as finished
      from public.assessment_sessions where created_at >= $1 and created_at < $2
  )
  select started,
    (select count(*) from public.assessment_sessions where completed_at >= $1 and completed_at < $2)::int
      as completed,
    coalesce(round(finished::numeric / nullif(started, 0), 4), 0)::float8 as completion_rate
  from started`

const BY_PILLAR = `
  select pillar_id, mode, count(*)::int as completed,
    round(avg((results->>'pillar_score')::numeric), 2)::float8 as mean_score
  from public.assessment_sessions
  where completed_at >= $1 and completed_at < $2
  group by pillar_id, mode
  order by mode, pillar_id`

// One pass: a row per provider and model, plus the grand total (the empty grouping set).
const AI = `
  select provider, model, grouping(provider, model) = 3 as total,
    count(*)::int as requests,
    count(*) filter (where failed_over)::int as failovers,
    coalesce(sum(input_tokens), 0)::float8 as input_tokens,
    coalesce(sum(output_tokens), 0)::float8 as output_tokens
  from public.llm_usage
  where started_at >= $1 and started_at < $2
  group by grouping sets ((provider, model), ())
  order by total, requests desc, provider, model`

const EVENTS = `
  select type, count(*)::int as count
  from public.events
  where received_at >= $1 and received_at < $2
  group by type
  order by count desc, type`

/** The report's statements (the bench times and EXPLAINs each); `users` takes [to], the rest [from, to]. */
export const ANALYTICS_SQL = {
  users: USERS,
  assessments: ASSESSMENTS,
  by_pillar: BY_PILLAR,
  ai: AI,
  events: EVENTS,
}

interface AiRow {
  provider: string | null
  model: string | null
  total: boolean
  requests: number
  failovers: number
  input_tokens: number
  output_tokens: number
}

/**
 * The operators' platform report (admin only, checked by the route): users, assessments, AI
 * usage and activity events over a window, read as the service (every user's rows).
 * docs/operations.md "Usage records and the analytics report" says what each figure counts.
 */
export class AnalyticsService {
  constructor(
    private readonly db: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async report(query: AnalyticsWindow): Promise<AnalyticsReport> {
    const { from, to } = resolveWindow(query, this.clock())
    const range = [from.toISOString(), to.toISOString()]
    return this.db.asService(async (tx) => {
      const [users] = await tx.query<AnalyticsReport['users']>(USERS, [range[1]])
      const [assessments] = await tx.query<Omit<AnalyticsReport['assessments'], 'by_pillar'>>(
        ASSESSMENTS,
        range,
      )
      const byPillar = await tx.query<AnalyticsReport['assessments']['by_pillar'][number]>(BY_PILLAR, range)
      const ai = await this.#ai(tx, range)
      const byType = await tx.query<{ type: string; count: number }>(EVENTS, range)
      return {
        users: users ?? { total: 0, active_1d: 0, active_7d: 0, active_30d: 0 },
        assessments: {
          ...(assessments ?? { started: 0, completed: 0, completion_rate: 0 }),
          by_pillar: byPillar,
        },
        ai,
        events: { by_type: byType },
      }
    })
  }

  async #ai(tx: Tx, range: string[]): Promise<AnalyticsReport['ai']> {
    const rows = await tx.query<AiRow>(AI, range)
    const total = rows.find((row) => row.total)
    return {
      requests: total?.requests ?? 0,
      failovers: total?.failovers ?? 0,
      by_provider: rows
        .filter((row) => !row.total)
        .map((row) => ({
          provider: row.provider ?? '',
          model: row.model ?? '',
          requests: row.requests,
          input_tokens: row.input_tokens,
          output_tokens: row.output_tokens,
        })),
    }
  }
}
