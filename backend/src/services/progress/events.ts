import type { AuthUser } from '@/lib/auth/types'
import { sqlState } from '@/lib/db/errors'
import { invalid } from '@/lib/errors/domain'
import type { ActivityRecorder } from '@/services/progress/activity-port'
import type { EventRecord, EventStore, EventType } from '@/services/progress/events-store'

/** How far back an event may have happened: older ones are refused, not stored. */
export const EVENT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000
/** How far ahead of the server's clock a client's clock may run. */
export const EVENT_MAX_SKEW_MS = 5 * 60 * 1000

/** One event as the route validated it (optional fields may be absent or null). */
export interface EventInput {
  id: string
  type: EventType
  occurred_at: string
  session_id?: string | null
  page?: string | null
  pillar_id?: string | null
  properties?: Record<string, unknown> | null
}

export interface IngestResult {
  /** Events stored by this call. */
  accepted: number
  /** Events already stored (by an earlier call or earlier in this batch): nothing changed. */
  duplicates: number
}

/**
 * Activity events: a batch is checked against the server's clock, deduplicated, and written in
 * one statement together with the daily-activity note, in one transaction — either the whole
 * batch and its award commit or nothing does.
 */
export class EventService {
  constructor(
    private readonly store: EventStore,
    private readonly activity: ActivityRecorder,
    private readonly clock: () => Date,
  ) {}

  async ingest(user: AuthUser, events: readonly EventInput[]): Promise<IngestResult> {
    const now = this.clock()
    checkTimes(events, now.getTime())
    const unique = firstOfEachId(events)
    // As the service, with the user id of the verified token: users hold no insert privilege
    // on the table (an event they could write themselves could forge the activity award).
    const accepted = await this.store.asService(async (tx) => {
      const written = await this.store
        .insertBatch(tx, user.id, unique.map(record))
        .catch((error: unknown) => Promise.reject(refusedRow(error)))
      // A batch that stored nothing (a retry) is not new activity: it changes nothing at all.
      if (written > 0) await this.activity.noteActivity(tx, user.id, now)
      return written
    })
    return { accepted, duplicates: events.length - accepted }
  }
}

/**
 * The time bounds, against the server's clock (the schema cannot know it): every event out of
 * bounds is named with its index, in the same shape as the schema's own issues.
 */
function checkTimes(events: readonly EventInput[], now: number): void {
  const issues: { field: string; message: string }[] = []
  events.forEach((event, index) => {
    const at = Date.parse(event.occurred_at)
    const field = `body.events.${index}.occurred_at`
    // The schema checked the format; a date the clock cannot read is refused, never let through.
    if (!Number.isFinite(at)) issues.push({ field, message: 'must be an ISO 8601 date-time' })
    else if (at < now - EVENT_MAX_AGE_MS) issues.push({ field, message: 'must be within the last 7 days' })
    else if (at > now + EVENT_MAX_SKEW_MS) {
      issues.push({ field, message: 'must not be more than 5 minutes ahead of the server clock' })
    }
  })
  if (issues.length > 0) throw invalid('The request is not valid', issues)
}

/**
 * The last line behind the schema: the insert's values are all the client's, so a row the table
 * refuses (a check, 23514, or a value Postgres cannot take, class 22) is a 400, never a 500. The
 * schema is meant to stop all of these first; the database's message is not passed on.
 */
function refusedRow(error: unknown): unknown {
  const state = sqlState(error) ?? ''
  if (state !== '23514' && !state.startsWith('22')) return error
  return invalid('The request is not valid', [
    { field: 'body.events', message: 'an event could not be stored as sent (a value out of bounds)' },
  ])
}

/**
 * The first event of each id. The database would skip a repeat within one statement too, but
 * deciding here makes "which one is kept" explicit (the first) on every Postgres.
 */
function firstOfEachId(events: readonly EventInput[]): EventInput[] {
  if (events.length < 2) return [...events]
  const seen = new Set<string>()
  return events.filter((event) => {
    const id = event.id.toLowerCase()
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
}

const record = (event: EventInput): EventRecord => ({
  id: event.id,
  type: event.type,
  occurred_at: event.occurred_at,
  session_id: event.session_id ?? null,
  page: event.page ?? null,
  pillar_id: event.pillar_id ?? null,
  properties: event.properties ?? {},
})
