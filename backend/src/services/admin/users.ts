import type { Database } from '@/lib/db/database'
import { keysetCondition } from '@/lib/db/keyset'
import { notFound } from '@/lib/errors/domain'
import { decodeCursor, pageOf } from '@/lib/http/pagination'

export interface AdminUserRow {
  id: string
  email: string | null
  display_name: string | null
  role: 'admin' | 'user'
  created_at: Date
  last_seen_at: Date | null
  created_key: string
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString())

const present = (row: AdminUserRow) => ({
  id: row.id,
  email: row.email,
  display_name: row.display_name,
  role: row.role,
  created_at: iso(row.created_at) as string,
  last_seen_at: iso(row.last_seen_at),
})

const COLUMNS = `id, email, display_name, role, created_at, last_seen_at,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key`

/** `like` matches `%` and `_` anywhere: an email prefix is matched literally. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * The operator's view of users (admin only, checked by the route): a newest-first list with an
 * email-prefix search, and the role switch. Reads and writes run as the service — admins see
 * every profile — and a role change reaches the user on their next request because their cached
 * tokens are evicted here and, over Redis, on every other instance.
 */
export class AdminUserService {
  constructor(
    private readonly db: Database,
    /** Resolves once the other instances have been told (a role change is a security change). */
    private readonly evictUser: (userId: string) => Promise<unknown>,
  ) {}

  async list(query: { limit: number; cursor?: string; q?: string }) {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const params: unknown[] = [query.limit + 1]
    let where = 'true'
    if (query.q) {
      params.push(`${escapeLike(query.q.toLowerCase())}%`)
      where += ` and lower(email) like $${params.length}`
    }
    where += keysetCondition(params, after, 'created_at, id', '<')
    const rows = await this.db.asService((tx) =>
      tx.query<AdminUserRow>(
        `select ${COLUMNS} from public.user_profiles where ${where} order by created_at desc, id desc limit $1`,
        params,
      ),
    )
    return pageOf(rows, query.limit, (row) => row.id, present)
  }

  /**
   * Sets the profile role. A user whose server-controlled `app_metadata.role` is `admin` (Supabase
   * Auth, or a local token minted with --admin) stays admin whatever this says.
   */
  async setRole(userId: string, role: 'admin' | 'user') {
    const [row] = await this.db.asService((tx) =>
      tx.query<AdminUserRow>(`update public.user_profiles set role = $2 where id = $1 returning ${COLUMNS}`, [
        userId,
        role,
      ]),
    )
    if (!row) throw notFound('User')
    await this.evictUser(userId)
    return present(row)
  }
}
