import type { Database } from '@/lib/db/database'

/** One stored LLM call attempt (`public.llm_usage`), as the recorder queues it. */
export interface UsageRow {
  started_at: string
  latency_ms: number
  user_hash: string | null
  feature: string
  provider: string
  model: string
  attempt: number
  failed_over: boolean
  outcome: 'ok' | 'error'
  error_kind: string | null
  input_tokens: number | null
  output_tokens: number | null
}

/** Where the recorder's batches go; tests put a hanging or failing one in its place. */
export interface UsageSink {
  insert(rows: readonly UsageRow[]): Promise<void>
}

/**
 * Writes a batch in one statement: the rows travel as one JSON parameter and
 * `jsonb_to_recordset` turns them back into rows, so a batch of 500 is one round trip and one
 * bound parameter on either adapter (no 13 × 500 placeholders).
 */
export class UsageStore implements UsageSink {
  constructor(private readonly db: Database) {}

  async insert(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return
    await this.db.asService((tx) =>
      tx.query(
        `insert into public.llm_usage (started_at, latency_ms, user_hash, feature, provider, model, attempt,
           failed_over, outcome, error_kind, input_tokens, output_tokens)
         select started_at, latency_ms, user_hash, feature, provider, model, attempt,
           failed_over, outcome, error_kind, input_tokens, output_tokens
           from jsonb_to_recordset($1::text::jsonb) as r(started_at timestamptz, latency_ms integer,
             user_hash text, feature text, provider text, model text, attempt integer, failed_over boolean,
             outcome text, error_kind text, input_tokens integer, output_tokens integer)`,
        [JSON.stringify(rows)],
      ),
    )
  }
}
