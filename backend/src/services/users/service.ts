import type { AuthUser } from '@/lib/auth/types'
import { conflict, notFound } from '@/lib/errors/domain'
import type { Keyset } from '@/lib/http/pagination'
import { hashUserId, type Logger } from '@/lib/log'
import { type AuthService, defaultDisplayName } from '@/services/auth'
import type { AuthAdmin } from '@/services/users/auth-admin'
import type { ProfilePatch, ProfileRow, UserStore } from '@/services/users/store'

const iso = (value: Date | string | null | undefined) =>
  value === null || value === undefined ? null : new Date(value).toISOString()

/** The profile as API.md spells it. `role` is the effective one, as `/auth/me` answers. */
export function presentProfile(row: ProfileRow, user: Pick<AuthUser, 'role'>) {
  return {
    id: row.id,
    email: row.email,
    display_name: row.display_name,
    bio: row.bio,
    avatar_url: row.avatar_url,
    position: row.position,
    goal: row.goal,
    preferences: row.preferences ?? {},
    role: user.role,
    leaderboard_opt_in: row.leaderboard_opt_in,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
  }
}
export type Profile = ReturnType<typeof presentProfile>

/** Rows per export read: a user with 10,000 messages is 20 pages of them, never all at once. */
export const EXPORT_PAGE_SIZE = {
  messages: 500,
  conversations: 100,
  assessments: 200,
  events: 1000,
  points: 1000,
}

export interface UserServiceOptions {
  /** True when auth.users is ours (embedded, plain Postgres): deletion removes the row itself. */
  ownsAuthUsers: boolean
  /** Supabase mode: where the auth user (or at least their sessions) is ended after our rows. */
  authAdmin?: AuthAdmin
  logger: Logger
}

/** `record` for the account section, whose sessions are records too. */
function recordDeep(account: Record<string, unknown>): Record<string, unknown> {
  const { sessions, ...rest } = account
  return {
    ...record(rest),
    ...(Array.isArray(sessions)
      ? { sessions: sessions.map((s) => record(s as Record<string, unknown>)) }
      : {}),
  }
}

/** Values with timestamps as ISO strings, the keyset column dropped: one export record. */
function record(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) {
    if (key === 'created_key') continue
    out[key] = value instanceof Date ? value.toISOString() : value
  }
  return out
}

/** Every row of a keyset-paged read, one page at a time. */
async function* paged<Row extends { created_key: string; id?: unknown }>(
  read: (after: Keyset | undefined) => Promise<Row[]>,
  limit: number,
): AsyncGenerator<Row[]> {
  let after: Keyset | undefined
  while (true) {
    const rows = await read(after)
    if (rows.length > 0) yield rows
    if (rows.length < limit) return
    const last = rows[rows.length - 1] as Row
    after = { at: last.created_key, id: String(last.id) }
  }
}

/** A JSON array written as pages arrive: `[`, the items comma-separated, `]`. */
async function* jsonArray<Row>(
  pages: AsyncIterable<Row[]>,
  item: (row: Row) => string | Promise<string> | AsyncIterable<string>,
): AsyncGenerator<string> {
  yield '['
  let first = true
  for await (const rows of pages) {
    for (const row of rows) {
      if (!first) yield ','
      first = false
      const out = item(row)
      if (typeof out === 'string') yield out
      else if (out instanceof Promise) yield await out
      else yield* out
    }
  }
  yield ']'
}

/** Small pieces joined into chunks of about `chars` characters (many tiny writes cost more than the reads). */
async function* coalesced(pieces: AsyncIterable<string>, chars: number): AsyncGenerator<string> {
  let buffer: string[] = []
  let size = 0
  for await (const piece of pieces) {
    buffer.push(piece)
    size += piece.length
    if (size >= chars) {
      yield buffer.join('')
      buffer = []
      size = 0
    }
  }
  if (buffer.length > 0) yield buffer.join('')
}

/** Characters per export chunk (about 64 KiB of mostly ASCII JSON). */
const EXPORT_CHUNK_CHARS = 64 * 1024

/**
 * The caller's own account: profile, progress, a full export and deletion. Reads run as the user
 * (RLS) and filter by owner; deletion is one service-role transaction filtered by owner.
 */
export class UserService {
  constructor(
    private readonly store: UserStore,
    private readonly auth: AuthService,
    private readonly options: UserServiceOptions,
  ) {}

  async get(user: AuthUser): Promise<Profile> {
    return presentProfile(await this.#row(user), user)
  }

  async update(user: AuthUser, patch: ProfilePatch): Promise<Profile> {
    await this.#row(user)
    const row = await this.store.update(user.claims, patch)
    if (!row) throw notFound('Profile')
    return presentProfile(row, user)
  }

  progress(user: AuthUser) {
    return this.store.progress(user.claims)
  }

  /**
   * Everything stored about the caller as JSON text, in pieces: the profile is read before the
   * first piece (so a database outage is still an ordinary error response), the rest page by
   * page as the consumer pulls.
   */
  async export(user: AuthUser): Promise<{ filename: string; chunks: AsyncGenerator<string> }> {
    const profile = await this.#row(user)
    const exportedAt = new Date().toISOString()
    return {
      filename: `pilar-export-${exportedAt.slice(0, 10)}.json`,
      chunks: coalesced(this.#exportChunks(user, profile, exportedAt), EXPORT_CHUNK_CHARS),
    }
  }

  async *#exportChunks(user: AuthUser, profile: ProfileRow, exportedAt: string): AsyncGenerator<string> {
    const { claims } = user
    const size = EXPORT_PAGE_SIZE
    yield `{"format":"pilar-export","version":1,"exported_at":${JSON.stringify(exportedAt)}`
    yield `,"profile":${JSON.stringify(record({ ...profile }))}`
    yield ',"assessments":'
    yield* jsonArray(
      paged((after) => this.store.assessmentsPage(claims, after, size.assessments), size.assessments),
      (row) => JSON.stringify(record(row)),
    )
    yield ',"conversations":'
    yield* jsonArray(
      paged((after) => this.store.conversationsPage(claims, after, size.conversations), size.conversations),
      (conversation) => this.#conversation(user, conversation),
    )
    const teams = await this.store.teamData(claims, user.email)
    yield `,"memberships":${JSON.stringify(teams.memberships.map(record))}`
    yield `,"invitations":${JSON.stringify(teams.invitations.map(record))}`
    yield `,"round_participations":${JSON.stringify(teams.round_participations.map(record))}`
    const elsewhere = await this.store.namedElsewhere(user.id)
    yield `,"invitations_sent":${JSON.stringify(elsewhere.invitations_sent.map(record))}`
    yield `,"rounds_opened":${JSON.stringify(elsewhere.rounds_opened.map(record))}`
    // Local mode: the account row and its sessions are ours; on Supabase, Supabase Auth keeps
    // them, and what the token carries is what this server knows.
    const account = this.options.ownsAuthUsers
      ? await this.store.localAccount(user.id)
      : { email: user.email ?? null, user_metadata: user.claims.user_metadata ?? {} }
    yield `,"account":${JSON.stringify(recordDeep(account))}`
    yield ',"events":'
    yield* jsonArray(
      paged((after) => this.store.eventsPage(claims, after, size.events), size.events),
      (row) => JSON.stringify(record(row)),
    )
    // Points: the summary and badges (small), then the ledger every total is derived from.
    const points = await this.store.pointsOverview(claims)
    yield `,"points":{"summary":${JSON.stringify(points.summary && record(points.summary))}`
    yield `,"badges":${JSON.stringify(points.badges.map(record))},"ledger":`
    yield* jsonArray(
      paged((after) => this.store.pointsPage(claims, after, size.points), size.points),
      (row) => JSON.stringify(record(row)),
    )
    yield '}}'
  }

  /** One conversation with its messages, the messages in pages. */
  async *#conversation(user: AuthUser, conversation: Record<string, unknown> & { id: string }) {
    const head = JSON.stringify(record(conversation))
    yield `${head.slice(0, -1)},"messages":`
    const size = EXPORT_PAGE_SIZE.messages
    yield* jsonArray(
      paged((after) => this.store.messagesPage(user.claims, conversation.id, after, size), size),
      (row) => JSON.stringify(record(row)),
    )
    yield '}'
  }

  /**
   * Deletes the account: 409 while they own a team with other members (nothing deleted), else
   * every row in one transaction, then their tokens are refused everywhere at once — the local
   * tombstone (written in that transaction), the token cache here and on every instance, and in
   * Supabase mode the auth user (service-role key) or at least all their sessions.
   */
  async remove(user: AuthUser, token: string): Promise<void> {
    const local = this.auth.mode === 'local'
    const outcome = await this.store.deleteAccount(user.id, user.email, {
      deleteAuthUser: this.options.ownsAuthUsers,
      tombstone: local,
    })
    if (!outcome.ok) {
      throw conflict(
        'You own a team that has other members: transfer it to another member or remove them first',
      )
    }
    await this.auth.evictUser(user.id)
    const admin = this.options.authAdmin
    if (!local && admin) {
      if (admin.canDeleteUsers) await admin.deleteUser(user.id)
      else await admin.signOutEverywhere(token)
      // A request verified during the upstream call must not stay cached.
      await this.auth.evictUser(user.id)
    }
    this.options.logger.info(
      { user: hashUserId(user.id), authUser: local || admin?.canDeleteUsers ? 'deleted' : 'kept' },
      'account deleted',
    )
  }

  /** The caller's profile row, created first if it went missing since AuthService made it. */
  async #row(user: AuthUser): Promise<ProfileRow> {
    let row = await this.store.profile(user.claims)
    if (!row) {
      await this.store.ensureProfile(user.id, user.email ?? null, defaultDisplayName(user))
      row = await this.store.profile(user.claims)
    }
    if (!row) throw notFound('Profile')
    return row
  }
}
