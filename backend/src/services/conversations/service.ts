import type { AuthUser } from '@/lib/auth/types'
import { notFound } from '@/lib/errors/domain'
import { decodeCursor, encodeCursor } from '@/lib/http/pagination'
import type { Logger } from '@/lib/log'
import type { ConversationRow, ConversationStore, MessageRow } from '@/services/conversations/store'

const iso = (value: Date | string) => new Date(value).toISOString()

function page<T extends { id: string; created_key: string }>(rows: T[], limit: number) {
  const data = rows.slice(0, limit)
  const last = data.at(-1)
  return {
    data,
    next: rows.length > limit && last ? encodeCursor({ at: last.created_key, id: last.id }) : null,
  }
}

const presentConversation = (row: ConversationRow) => ({
  id: row.id,
  title: row.title,
  created_at: iso(row.created_at),
  updated_at: iso(row.updated_at),
  expires_at: iso(row.expires_at),
})

export const presentMessage = (row: MessageRow) => ({
  id: row.id,
  role: row.role,
  content: row.content,
  created_at: iso(row.created_at),
})

/** Listing, reading and deleting one's conversations; removing expired ones. */
export class ConversationService {
  constructor(
    private readonly store: ConversationStore,
    private readonly logger: Logger,
  ) {}

  async list(user: AuthUser, query: { limit: number; cursor?: string }) {
    const rows = await this.store.list(
      user.claims,
      query.limit,
      query.cursor ? decodeCursor(query.cursor) : undefined,
    )
    const { data, next } = page(rows, query.limit)
    return { data: data.map(presentConversation), next_cursor: next }
  }

  async messages(user: AuthUser, id: string, query: { limit: number; cursor?: string }) {
    if (!(await this.store.find(user.claims, id))) throw notFound('Conversation')
    const rows = await this.store.messages(
      user.claims,
      id,
      query.limit,
      query.cursor ? decodeCursor(query.cursor) : undefined,
    )
    const { data, next } = page(rows, query.limit)
    return { data: data.map(presentMessage), next_cursor: next }
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    if (!(await this.store.remove(user.claims, id))) throw notFound('Conversation')
  }

  async cleanup(): Promise<{ deleted: number; duration_ms: number }> {
    const started = performance.now()
    const deleted = await this.store.deleteExpired()
    const duration_ms = Math.round(performance.now() - started)
    if (deleted > 0) this.logger.info({ deleted, duration_ms }, 'expired conversations removed')
    return { deleted, duration_ms }
  }
}
