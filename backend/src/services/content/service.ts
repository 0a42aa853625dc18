import { createHash } from 'node:crypto'
import type { AuthUser } from '@/lib/auth/types'
import { sqlState } from '@/lib/db/errors'
import { conflict, forbidden, invalid, notFound, unauthenticated } from '@/lib/errors/domain'
import { decodeCursor, pageOf } from '@/lib/http/pagination'
import type { Logger } from '@/lib/log'
import type { ContentIndexer } from '@/services/content/indexer-port'
import { SLUG_PATTERN, slugify } from '@/services/content/slug'
import type {
  ContentFields,
  ContentKind,
  ContentRow,
  ContentStatus,
  ContentStore,
  ContentSummaryRow,
  Reader,
} from '@/services/content/store'

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString())

export const presentSummary = (row: ContentSummaryRow) => ({
  id: row.id,
  slug: row.slug,
  kind: row.kind,
  title: row.title,
  summary: row.summary,
  pillar_ids: row.pillar_ids,
  tags: row.tags,
  status: row.status,
  author_id: row.author_id,
  published_at: iso(row.published_at),
  created_at: iso(row.created_at) as string,
  updated_at: iso(row.updated_at) as string,
})
export type ContentSummary = ReturnType<typeof presentSummary>
export type Content = ContentSummary & { body: string }

const present = (row: ContentRow): Content => ({ ...presentSummary(row), body: row.body })

/**
 * The strong entity tag of an item's stored row: a hash of its id and `updated_at` (UTC, to the
 * microsecond), which the touch trigger moves on every change — edits and status moves alike.
 */
export function entityTag(row: { id: string; updated_key: string }): string {
  return `"${createHash('sha256').update(`${row.id}|${row.updated_key}`).digest('base64url').slice(0, 27)}"`
}

export interface CreateInput {
  title: string
  body: string
  kind: ContentKind
  slug?: string
  summary?: string | null
  pillar_ids?: string[]
  tags?: string[]
}
export type UpdateInput = Partial<Omit<CreateInput, 'summary'>> & { summary?: string | null }

export interface ListQuery {
  status?: ContentStatus
  kind?: ContentKind
  tag?: string
  pillar_id?: string
  q?: string
  limit: number
  cursor?: string
}

/** A read by slug: the item and its tag, or "not modified" when the caller holds the current tag. */
export type ReadResult =
  | { modified: true; content: Content; etag: string }
  | { modified: false; etag: string; status: ContentStatus }

// Sets keep their first occurrence's order; a repeated tag or pillar means nothing more.
const unique = (values: readonly string[] | undefined) => (values ? [...new Set(values)] : undefined)

/**
 * Articles, pages and resources: admins write (the routes require the role, and every write
 * here checks it again before going to the database as the service), everyone reads what is
 * published. After a write commits, the knowledge base is told through the indexer; its
 * failure is logged, never the request's.
 */
export class ContentService {
  constructor(
    private readonly store: ContentStore,
    private readonly indexer: ContentIndexer,
    private readonly logger: Logger,
  ) {}

  async create(user: AuthUser, input: CreateInput): Promise<Content> {
    requireAdminUser(user)
    const slug = input.slug ?? slugify(input.title)
    if (!slug) {
      throw invalid('No slug can be made from this title; send one', [
        { field: 'body.slug', message: 'required when the title has no letters or digits a-z, 0-9' },
      ])
    }
    const fields: ContentFields = {
      slug,
      kind: input.kind,
      title: input.title,
      summary: input.summary ?? null,
      body: input.body,
      pillar_ids: unique(input.pillar_ids) ?? [],
      tags: unique(input.tags) ?? [],
    }
    const row = await this.#writing(slug, () => this.store.insert(fields, user.id))
    return present(row)
  }

  async update(user: AuthUser, id: string, patch: UpdateInput): Promise<Content> {
    requireAdminUser(user)
    const fields: Partial<ContentFields> = {
      ...patch,
      pillar_ids: unique(patch.pillar_ids),
      tags: unique(patch.tags),
    }
    const found = await this.#writing(patch.slug, () => this.store.update(id, fields))
    if (!found) throw notFound('Content')
    if (found.changed && found.row.status === 'published') await this.#index(found.row)
    return present(found.row)
  }

  /** Publishes a draft or an archived item; already published → the item as it is. */
  async publish(user: AuthUser, id: string): Promise<Content> {
    requireAdminUser(user)
    const found = await this.store.setStatus(id, 'published')
    if (!found) throw notFound('Content')
    if (found.changed) await this.#index(found.row)
    return present(found.row)
  }

  /** Archives an item (it leaves the public site and the knowledge base); already archived → as it is. */
  async archive(user: AuthUser, id: string): Promise<Content> {
    requireAdminUser(user)
    const found = await this.store.setStatus(id, 'archived')
    if (!found) throw notFound('Content')
    if (found.changed) await this.#unindex(id)
    return present(found.row)
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    requireAdminUser(user)
    if (!(await this.store.remove(id))) throw notFound('Content')
    await this.#unindex(id)
  }

  /** Published items, newest first; an admin may ask for drafts or archived ones instead. */
  async list(caller: AuthUser | undefined, query: ListQuery) {
    const status = query.status ?? 'published'
    if (status !== 'published') {
      if (!caller) throw unauthenticated('Listing draft or archived content needs an admin token')
      requireAdminUser(caller)
    }
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const rows = await this.store.list(readerOf(caller), {
      status,
      kind: query.kind,
      tag: query.tag,
      pillar_id: query.pillar_id,
      q: query.q,
      limit: query.limit,
      after,
    })
    return pageOf(rows, query.limit, (row) => row.id, presentSummary)
  }

  /**
   * One item by slug: published ones for everyone, any for an admin; anything else is 404.
   * With `knownTags` (If-None-Match) the current tag is checked first, without reading the body.
   */
  async read(
    caller: AuthUser | undefined,
    slug: string,
    knownTags: readonly string[] = [],
  ): Promise<ReadResult> {
    if (!SLUG_PATTERN.test(slug)) throw notFound('Content')
    const reader = readerOf(caller)
    if (knownTags.length > 0) {
      const head = await this.store.headBySlug(reader, slug)
      if (!head) throw notFound('Content')
      const etag = entityTag(head)
      if (knownTags.includes(etag) || knownTags.includes('*')) {
        return { modified: false, etag, status: head.status }
      }
    }
    const row = await this.store.bySlug(reader, slug)
    if (!row) throw notFound('Content')
    return { modified: true, content: present(row), etag: entityTag(row) }
  }

  /** Runs a write; a taken slug (the unique index) is a 409 naming it, never a silent suffix. */
  async #writing<T>(slug: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    } catch (error) {
      if (sqlState(error) === '23505') throw conflict(`The slug "${slug}" is taken`)
      throw error
    }
  }

  /**
   * Indexes up to `limit` published items that have no knowledge document yet: the seeded pages
   * on a fresh start, and items whose indexing failed after their publish (at start-up and hourly).
   */
  async indexMissing(limit = 100): Promise<{ indexed: number; removed: number }> {
    // Documents of items no longer published go first (nothing else would ever remove them).
    const removed = (await this.indexer.removeStale?.()) ?? 0
    const rows = await this.store.unindexed(limit)
    for (const row of rows) {
      await this.#index(row)
      // Embedding is CPU work on this thread and the embedded database has one connection:
      // let waiting requests in between items.
      await Bun.sleep(5)
    }
    return { indexed: rows.length, removed }
  }

  async #index(row: ContentRow): Promise<void> {
    try {
      await this.indexer.indexPublished({
        id: row.id,
        slug: row.slug,
        title: row.title,
        summary: row.summary,
        body: row.body,
        pillar_ids: row.pillar_ids,
        updated_key: row.updated_key,
      })
    } catch (error) {
      this.logger.warn(
        { err: error, content_id: row.id },
        'content indexing failed; the hourly job indexes it again',
      )
    }
  }

  async #unindex(id: string): Promise<void> {
    try {
      await this.indexer.remove(id)
    } catch (error) {
      this.logger.warn({ err: error, content_id: id }, 'removing content from the knowledge base failed')
    }
  }
}

/** The routes require the role already; a service method called some other way checks it too. */
function requireAdminUser(user: AuthUser): void {
  if (user.role !== 'admin') throw forbidden('This needs the admin role')
}

const readerOf = (caller: AuthUser | undefined): Reader => ({
  claims: caller?.claims,
  admin: caller?.role === 'admin',
})
