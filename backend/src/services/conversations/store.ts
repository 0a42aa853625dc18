import type { Database, JwtClaims } from '@/lib/db/database'
import { notFound } from '@/lib/errors/domain'
import type { Keyset } from '@/lib/http/pagination'

export interface ConversationRow {
  id: string
  title: string
  pillar_id: string | null
  mode: string | null
  created_at: Date
  updated_at: Date
  expires_at: Date
  created_key: string
}

export interface MessageRow {
  id: string
  role: 'user' | 'assistant'
  content: string
  created_at: Date
  created_key: string
}

export interface NewExchange {
  conversationId: string
  /** Set when the conversation is new: it is created in the same transaction as its first messages. */
  create?: { title: string; pillarId: string | null; mode: string | null }
  userText: string
  assistantText: string
  provider: string
  model: string
  usage: { input_tokens: number; output_tokens: number }
  ttlDays: number
}

const KEY = `to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key`
const CONVERSATION = `id, title, pillar_id, mode, created_at, updated_at, expires_at, ${KEY}`
const MESSAGE = `id, role, content, created_at, ${KEY}`

/**
 * SQL for conversations, all as the user (RLS: owner only, expired ones invisible) and filtered
 * by owner and expiry here as well; the expired-row cleanup runs as the service.
 */
export class ConversationStore {
  constructor(private readonly db: Database) {}

  async find(claims: JwtClaims, id: string): Promise<ConversationRow | undefined> {
    const [row] = await this.db.asUser(claims, (tx) =>
      tx.query<ConversationRow>(
        `select ${CONVERSATION} from public.conversations where id = $1 and user_id = $2 and expires_at > now()`,
        [id, claims.sub],
      ),
    )
    return row
  }

  /** The latest `limit` messages, oldest first. */
  async recentMessages(claims: JwtClaims, id: string, limit: number): Promise<MessageRow[]> {
    const rows = await this.db.asUser(claims, (tx) =>
      tx.query<MessageRow>(
        `select ${MESSAGE} from public.conversation_messages
          where conversation_id = $1 and user_id = $2 order by created_at desc, id desc limit $3`,
        [id, claims.sub, limit],
      ),
    )
    return rows.reverse()
  }

  /**
   * Stores a question and its answer together (nothing is stored for a failed call), creating
   * the conversation if it is new and moving its expiry to `ttlDays` after this message.
   * Written as the service (users hold no write privilege on chat history, so none can forge
   * an assistant message); every statement filters by the owner itself.
   */
  async saveExchange(claims: JwtClaims, exchange: NewExchange): Promise<MessageRow> {
    return this.db.asService(async (tx) => {
      if (exchange.create) {
        await tx.query(
          `insert into public.conversations (id, user_id, title, pillar_id, mode, expires_at)
           values ($1, $2, $3, $4, $5, now() + make_interval(days => $6))`,
          [
            exchange.conversationId,
            claims.sub,
            exchange.create.title,
            exchange.create.pillarId,
            exchange.create.mode,
            exchange.ttlDays,
          ],
        )
      } else {
        const touched = await tx.query(
          `update public.conversations set updated_at = now(), expires_at = now() + make_interval(days => $3)
            where id = $1 and user_id = $2 and expires_at > now() returning id`,
          [exchange.conversationId, claims.sub, exchange.ttlDays],
        )
        if (touched.length === 0) throw notFound('Conversation')
      }
      const [question] = await tx.query<{ created_at: string }>(
        `insert into public.conversation_messages (conversation_id, user_id, role, content)
         values ($1, $2, 'user', $3) returning created_at::text`,
        [exchange.conversationId, claims.sub, exchange.userText],
      )
      // The answer must sort after its question even when both land in the same microsecond.
      const [answer] = await tx.query<MessageRow>(
        `insert into public.conversation_messages
           (conversation_id, user_id, role, content, provider, model, input_tokens, output_tokens, created_at)
         values ($1, $2, 'assistant', $3, $4, $5, $6, $7,
                 greatest(clock_timestamp(), $8::timestamptz + interval '1 microsecond'))
         returning ${MESSAGE}`,
        [
          exchange.conversationId,
          claims.sub,
          exchange.assistantText,
          exchange.provider,
          exchange.model,
          exchange.usage.input_tokens,
          exchange.usage.output_tokens,
          question?.created_at,
        ],
      )
      if (!answer) throw new Error('insert returned no row')
      return answer
    })
  }

  async list(claims: JwtClaims, limit: number, after?: Keyset): Promise<ConversationRow[]> {
    const params: unknown[] = [claims.sub, limit + 1]
    let where = 'user_id = $1 and expires_at > now()'
    if (after) {
      params.push(after.at, after.id)
      where += ' and (created_at, id) < ($3::timestamptz, $4::uuid)'
    }
    return this.db.asUser(claims, (tx) =>
      tx.query<ConversationRow>(
        `select ${CONVERSATION} from public.conversations where ${where} order by created_at desc, id desc limit $2`,
        params,
      ),
    )
  }

  /** Oldest first, after the keyset. */
  async messages(claims: JwtClaims, id: string, limit: number, after?: Keyset): Promise<MessageRow[]> {
    const params: unknown[] = [id, claims.sub, limit + 1]
    let where = 'conversation_id = $1 and user_id = $2'
    if (after) {
      params.push(after.at, after.id)
      where += ' and (created_at, id) > ($4::timestamptz, $5::uuid)'
    }
    return this.db.asUser(claims, (tx) =>
      tx.query<MessageRow>(
        `select ${MESSAGE} from public.conversation_messages where ${where} order by created_at, id limit $3`,
        params,
      ),
    )
  }

  async remove(claims: JwtClaims, id: string): Promise<boolean> {
    const rows = await this.db.asUser(claims, (tx) =>
      tx.query(
        'delete from public.conversations where id = $1 and user_id = $2 and expires_at > now() returning id',
        [id, claims.sub],
      ),
    )
    return rows.length > 0
  }

  /** Deletes expired conversations (their messages cascade); returns how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.db.asService((tx) =>
      tx.query('delete from public.conversations where expires_at <= now() returning id'),
    )
    return rows.length
  }
}
