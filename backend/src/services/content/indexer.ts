import type { Tx } from '@/lib/db/database'
import type { Logger } from '@/lib/log'
import type { ContentIndexer } from '@/services/content/indexer-port'
import type { KnowledgeService } from '@/services/knowledge/service'
import { type Mode, PILLARS, type PillarId } from '@/services/pilar/framework'

type PublishedItem = Parameters<ContentIndexer['indexPublished']>[0]

/** The knowledge-base source of a content item's chunks. */
export const contentSource = (contentId: string) => `content:${contentId}`

const isPillarId = (id: string): id is PillarId => Object.hasOwn(PILLARS, id)

/**
 * Published content as knowledge: each item is one document of source `content:<id>`, chunked
 * and embedded like an ingested one, so RAG search, chat and coaching cite it like any passage.
 *
 * Calls for one item run one after another, in the order they were made: a slow embedding for
 * an older edit can never land after a newer edit, nor revive an item archived meanwhile. (Across
 * instances the store's per-source lock keeps one document per source; the last writer wins.)
 */
export class KnowledgeContentIndexer implements ContentIndexer {
  readonly #queues = new Map<string, Promise<unknown>>()

  constructor(
    private readonly knowledge: KnowledgeService,
    private readonly logger: Logger,
  ) {}

  indexPublished(item: PublishedItem): Promise<void> {
    return this.#serial(item.id, async () => {
      const pillarIds = [...new Set(item.pillar_ids.filter(isPillarId))]
      const modes = new Set(pillarIds.map((id) => PILLARS[id].mode))
      // pillar_id / mode only when they are unambiguous: the search filters match them exactly,
      // so a one-pillar article grounds that pillar's coaching; a wider one is found unfiltered.
      const [onlyPillar] = pillarIds.length === 1 ? pillarIds : []
      const [onlyMode] = modes.size === 1 ? [...modes] : ([] as Mode[])
      // Written only if this is still the item's published version when the write takes the
      // source's lock: an edit or archive elsewhere (another instance, the hourly job's older
      // snapshot) must not be undone by a slower run.
      const { updated_key: version } = item
      const stillCurrent =
        version === undefined
          ? undefined
          : async (tx: Tx) =>
              (
                await tx.query(
                  `select 1 from public.content where id = $1 and status = 'published'
                and to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') = $2`,
                  [item.id, version],
                )
              ).length > 0
      const result = await this.knowledge.replaceSource(
        contentSource(item.id),
        {
          content: itemText(item),
          metadata: {
            title: item.title,
            kind: 'content',
            slug: item.slug,
            pillar_ids: pillarIds,
            ...(onlyPillar ? { pillar_id: onlyPillar } : {}),
            ...(onlyMode ? { mode: onlyMode } : {}),
            // The version indexed: the hourly job re-indexes an item whose document is older.
            ...(version === undefined ? {} : { version }),
          },
        },
        stillCurrent,
      )
      if (result.stored) {
        this.logger.info(
          {
            content_id: item.id,
            chunks: result.chunks,
            replaced: result.replaced,
            pending: result.embedding_model === null,
          },
          'content indexed',
        )
      }
    })
  }

  remove(contentId: string): Promise<void> {
    return this.#serial(contentId, async () => {
      const removed = await this.knowledge.removeSource(contentSource(contentId))
      if (removed > 0) this.logger.info({ content_id: contentId }, 'content removed from the knowledge base')
    })
  }

  removeStale(): Promise<number> {
    return this.knowledge.removeStaleContent()
  }

  /** Embeds what was stored while the embedder was down (the housekeeping job calls it too). */
  retryPending(): Promise<number> {
    return this.knowledge.backfill()
  }

  #serial(id: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#queues.get(id) ?? Promise.resolve()
    // A failed call (logged by its caller) must not stop the next one for the same item.
    const next = previous.catch(() => {}).then(work)
    this.#queues.set(id, next)
    void next
      .catch(() => {})
      .finally(() => {
        if (this.#queues.get(id) === next) this.#queues.delete(id)
      })
    return next
  }
}

/** Title, summary and body as one markdown document: the title heads the first chunk. */
function itemText(item: PublishedItem): string {
  const summary = item.summary?.trim()
  return [`# ${item.title.trim()}`, ...(summary ? [summary] : []), item.body].join('\n\n')
}
