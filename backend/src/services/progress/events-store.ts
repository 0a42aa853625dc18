import type { Database, Tx } from '@/lib/db/database'

/** The 14 kinds of activity the SPA reports (the migration's check holds the same list). */
export const EVENT_TYPES = [
  'page_view',
  'pillar_selected',
  'assessment_started',
  'assessment_completed',
  'question_answered',
  'modal_opened',
  'modal_closed',
  'navigation_click',
  'recommendation_clicked',
  'activity_started',
  'graph_interaction',
  'chatbot_interaction',
  'content_engagement',
  'insight_viewed',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** One event as it is stored (the user comes from the verified token, never from the event). */
export interface EventRecord {
  id: string
  type: EventType
  /** ISO 8601; already checked against the server's clock. */
  occurred_at: string
  session_id: string | null
  page: string | null
  pillar_id: string | null
  properties: Record<string, unknown>
}

// The whole batch is one parameter (a JSON array) and one statement: a batch of 100 events costs
// one round trip and one plan, not 100. A stored (user_id, id) is skipped, not an error, so a
// retried batch inserts nothing — also one in flight at the same time (the second waits for the
// first's rows, then skips them). A plain insert, not a CTE: the statement metric says "insert".
const INSERT_BATCH = `
  insert into public.events (user_id, id, type, occurred_at, session_id, page, pillar_id, properties)
  select $1::uuid, e.id, e.type, e.occurred_at, e.session_id, e.page, e.pillar_id, e.properties
    from jsonb_to_recordset($2::text::jsonb) as e(
      id uuid, type text, occurred_at timestamptz, session_id text, page text, pillar_id text,
      properties jsonb
    )
  on conflict (user_id, id) do nothing
  returning 1 as written`

/** The events table: the server is its only writer (users hold no write privilege on it). */
export class EventStore {
  constructor(private readonly db: Database) {}

  /** A transaction as the service role: the batch and what its cause awards share it. */
  asService<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.asService(fn)
  }

  /** Writes `events` for `userId` in one statement; answers how many were new. */
  async insertBatch(tx: Tx, userId: string, events: readonly EventRecord[]): Promise<number> {
    if (events.length === 0) return 0
    const rows = await tx.query(INSERT_BATCH, [userId, JSON.stringify(events)])
    return rows.length
  }
}
