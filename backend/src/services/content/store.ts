import type { Database, JwtClaims, Tx } from '@/lib/db/database'
import { keysetCondition } from '@/lib/db/keyset'
import type { Keyset } from '@/lib/http/pagination'

export type ContentKind = 'blog' | 'page' | 'resource'
export type ContentStatus = 'draft' | 'published' | 'archived'

/** A list row: everything but the body. */
export interface ContentSummaryRow {
  id: string
  slug: string
  kind: ContentKind
  title: string
  summary: string | null
  pillar_ids: string[]
  tags: string[]
  status: ContentStatus
  author_id: string | null
  published_at: Date | null
  created_at: Date
  updated_at: Date
  /** `updated_at` as UTC text with microseconds: what the ETag is made of (a Date keeps ms). */
  updated_key: string
  /** The list's keyset value (published_at, or created_at in the drafts and archived lists). */
  created_key: string
}

export interface ContentRow extends ContentSummaryRow {
  body: string
}

/** Just enough to answer a conditional GET without reading the body. */
export interface ContentHead {
  id: string
  status: ContentStatus
  updated_key: string
}

/** Who reads: a signed-in caller's claims (RLS applies), or nobody (anonymous). */
export interface Reader {
  claims: JwtClaims | undefined
  /** Admins see every status; everyone else only published rows (filtered here and by RLS). */
  admin: boolean
}

export interface ContentFields {
  slug: string
  kind: ContentKind
  title: string
  summary: string | null
  body: string
  pillar_ids: string[]
  tags: string[]
}

export interface ListFilter {
  status: ContentStatus
  kind?: ContentKind
  tag?: string
  pillar_id?: string
  q?: string
  limit: number
  after?: Keyset
}

const KEY = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
const SUMMARY = `c.id, c.slug, c.kind, c.title, c.summary, c.pillar_ids, c.tags, c.status, c.author_id,
  c.published_at, c.created_at, c.updated_at, ${KEY('c.updated_at')} as updated_key`
const FULL = `${SUMMARY}, c.body, ${KEY('c.created_at')} as created_key`
const RETURNING = FULL.replaceAll('c.', 'public.content.')
const EDITABLE = ['slug', 'kind', 'title', 'summary', 'body', 'pillar_ids', 'tags'] as const

/**
 * SQL for content. Reads: a signed-in user through `asUser` (RLS: published rows only), an
 * anonymous reader as the service with an explicit `status = 'published'`, an admin as the
 * service (docs/decisions.md "Content"). Every non-admin read names the status itself — RLS is
 * the second lock. Writes go as the service after the
 * service's admin check; each is one statement, so the touch trigger moves `updated_at` exactly
 * when a row changes.
 */
export class ContentStore {
  constructor(readonly db: Database) {}

  // A signed-in non-admin reads as themselves, under RLS. An admin reads as the service: the
  // service decided the role from the same sources public.is_admin() reads, but from the auth
  // server's current answer, where the token's own claims (what RLS sees) may be older.
  #read<T>(reader: Reader, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return reader.claims && !reader.admin ? this.db.asUser(reader.claims, fn) : this.db.asService(fn)
  }

  async bySlug(reader: Reader, slug: string): Promise<ContentRow | undefined> {
    const visible = reader.admin ? '' : ` and c.status = 'published'`
    const [row] = await this.#read(reader, (tx) =>
      tx.query<ContentRow>(`select ${FULL} from public.content c where c.slug = $1${visible}`, [slug]),
    )
    return row
  }

  async headBySlug(reader: Reader, slug: string): Promise<ContentHead | undefined> {
    const visible = reader.admin ? '' : ` and c.status = 'published'`
    const [row] = await this.#read(reader, (tx) =>
      tx.query<ContentHead>(
        `select c.id, c.status, ${KEY('c.updated_at')} as updated_key from public.content c
          where c.slug = $1${visible}`,
        [slug],
      ),
    )
    return row
  }

  /** One page (`limit + 1` rows), newest first: by published_at when published, else created_at. */
  async list(reader: Reader, filter: ListFilter): Promise<ContentSummaryRow[]> {
    if (filter.status !== 'published' && !reader.admin) return []
    const order = filter.status === 'published' ? 'c.published_at' : 'c.created_at'
    const params: unknown[] = [filter.status, filter.limit + 1]
    const where = ['c.status = $1']
    if (filter.kind) where.push(`c.kind = $${params.push(filter.kind)}`)
    if (filter.tag) where.push(`c.tags @> array[$${params.push(filter.tag)}]::text[]`)
    if (filter.pillar_id) where.push(`c.pillar_ids @> array[$${params.push(filter.pillar_id)}]::text[]`)
    if (filter.q) where.push(`c.search @@ websearch_to_tsquery('english', $${params.push(filter.q)})`)
    const keyset = keysetCondition(params, filter.after, `${order}, c.id`, '<')
    return this.#read(reader, (tx) =>
      tx.query<ContentSummaryRow>(
        `select ${SUMMARY}, ${KEY(order)} as created_key from public.content c
          where ${where.join(' and ')}${keyset}
          order by ${order} desc, c.id desc limit $2`,
        params,
      ),
    )
  }

  /**
   * Published items the knowledge base has no document of their current version for (the seed
   * pages, or an item whose indexing failed after its publish or edit committed), oldest
   * publication first.
   */
  async unindexed(limit: number): Promise<ContentRow[]> {
    return this.db.asService((tx) =>
      tx.query<ContentRow>(
        `select ${FULL} from public.content c
          where c.status = 'published'
            and not exists (
              select 1 from public.knowledge_documents d
               where d.source = 'content:' || c.id::text
                 and d.metadata ->> 'version' = to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            )
          order by c.published_at, c.id limit $1`,
        [limit],
      ),
    )
  }

  async byId(id: string): Promise<ContentRow | undefined> {
    const [row] = await this.db.asService((tx) =>
      tx.query<ContentRow>(`select ${FULL} from public.content c where c.id = $1`, [id]),
    )
    return row
  }

  async insert(fields: ContentFields, authorId: string | null): Promise<ContentRow> {
    const [row] = await this.db.asService((tx) =>
      tx.query<ContentRow>(
        `insert into public.content (slug, kind, title, summary, body, pillar_ids, tags, author_id)
         values ($1, $2, $3, $4, $5, $6::text[], $7::text[], $8) returning ${RETURNING}`,
        [
          fields.slug,
          fields.kind,
          fields.title,
          fields.summary,
          fields.body,
          fields.pillar_ids,
          fields.tags,
          authorId,
        ],
      ),
    )
    if (!row) throw new Error('insert into content returned no row')
    return row
  }

  /**
   * Applies the given fields; a field set to the value it has is no change, and a patch with
   * no change leaves the row (and `updated_at`, and so the ETag) alone. Undefined: no such row;
   * `changed: false`: nothing differed.
   */
  async update(
    id: string,
    patch: Partial<ContentFields>,
  ): Promise<{ row: ContentRow; changed: boolean } | undefined> {
    const params: unknown[] = [id]
    const sets: string[] = []
    const differs: string[] = []
    for (const column of EDITABLE) {
      const value = patch[column]
      if (value === undefined) continue
      const cast = column === 'pillar_ids' || column === 'tags' ? '::text[]' : ''
      const ref = `$${params.push(value)}${cast}`
      sets.push(`${column} = ${ref}`)
      differs.push(`${column} is distinct from ${ref}`)
    }
    if (sets.length > 0) {
      const [row] = await this.db.asService((tx) =>
        tx.query<ContentRow>(
          `update public.content set ${sets.join(', ')} where id = $1 and (${differs.join(' or ')})
           returning ${RETURNING}`,
          params,
        ),
      )
      if (row) return { row, changed: true }
    }
    const row = await this.byId(id)
    return row ? { row, changed: false } : undefined
  }

  /**
   * Moves the item to `status`. Publishing sets `published_at` the first time only; archiving
   * keeps it. Already in that status: `changed: false`, the row untouched.
   */
  async setStatus(
    id: string,
    status: 'published' | 'archived',
  ): Promise<{ row: ContentRow; changed: boolean } | undefined> {
    const publishedAt = status === 'published' ? 'coalesce(published_at, now())' : 'published_at'
    const [row] = await this.db.asService((tx) =>
      tx.query<ContentRow>(
        `update public.content set status = $2, published_at = ${publishedAt}
          where id = $1 and status <> $2 returning ${RETURNING}`,
        [id, status],
      ),
    )
    if (row) return { row, changed: true }
    const current = await this.byId(id)
    return current ? { row: current, changed: false } : undefined
  }

  /** The deleted row's status, or undefined when there was none. */
  async remove(id: string): Promise<ContentStatus | undefined> {
    const [row] = await this.db.asService((tx) =>
      tx.query<{ status: ContentStatus }>('delete from public.content where id = $1 returning status', [id]),
    )
    return row?.status
  }
}
