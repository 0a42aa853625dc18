/**
 * How content reaches the knowledge base (issue 15, item 4). ContentService calls it after the
 * content transaction commits; a failure is logged and never fails the content request — the
 * indexer records what is still pending and fills it in later.
 */
export interface ContentIndexer {
  /** The item was published, or a published item was edited: (re)place its knowledge chunks. */
  indexPublished(item: {
    id: string
    slug: string
    title: string
    summary: string | null
    body: string
    pillar_ids: string[]
    /**
     * `updated_at` as UTC text with microseconds: the version indexed. When given (ContentService
     * always gives it), nothing is written unless that is still the item's published version.
     */
    updated_key?: string
  }): Promise<void>
  /** The item was archived or deleted: remove its chunks. */
  remove(contentId: string): Promise<void>
  /** Documents of items no longer published (a failed removal, an archive through SQL). */
  removeStale?(): Promise<number>
}

export const noIndexer: ContentIndexer = { indexPublished: async () => {}, remove: async () => {} }
