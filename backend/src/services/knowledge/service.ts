import type { AuthUser } from '@/lib/auth/types'
import type { Tx } from '@/lib/db/database'
import type { Logger } from '@/lib/log'
import { LruTtl } from '@/lib/lru-ttl'
import { chunkText } from '@/lib/rag/chunking'
import { type Embedder, EmbedderUnavailableError } from '@/lib/rag/embedder'
import { storable, storableDeep } from '@/lib/text'
import { frameworkPassages } from '@/services/knowledge/seed'
import type { ChunkMetadata, KnowledgeStore, NewChunk, SearchRow } from '@/services/knowledge/store'
import { type Mode, PILLARS, type PillarId } from '@/services/pilar/framework'

export interface SearchInput {
  query: string
  pillar_id?: PillarId
  mode?: Mode
  limit: number
  /** Defaults to the embedder's `defaultThreshold`. */
  threshold?: number
}

export interface SearchResult {
  results: { id: string; content: string; metadata: Record<string, unknown>; similarity: number }[]
  search_mode: 'hybrid' | 'vector' | 'lexical'
  degraded: boolean
}

export interface IngestDocument {
  content: string
  metadata: {
    title?: string
    source?: string
    pillar_id?: PillarId
    mode?: Mode
    kind?: ChunkMetadata['kind']
    /** Published content only (`kind: 'content'`): the item's slug and all its pillars. */
    slug?: string
    pillar_ids?: PillarId[]
  }
}

/** What replacing a source's document did. */
export interface ReplaceResult {
  /** False when the source already held exactly this document (nothing was written). */
  stored: boolean
  /** Documents of the source removed. */
  replaced: number
  chunks: number
  /** The model that embedded the chunks, or null when they wait for a vector (pending). */
  embedding_model: string | null
}

export interface IngestResult {
  documents: number
  chunks: number
  skipped_duplicates: number
  /** The model that embedded the new chunks, or null when the embedder was unavailable. */
  embedding_model: string | null
}

const sha256 = (text: string) => Bun.SHA256.hash(text, 'hex')

/** Chunks written per ingest transaction (a large document still goes in whole). */
const INGEST_BATCH_CHUNKS = 200

/** Consecutive groups of `items` holding at most `limit` chunks each (at least one item). */
function* batches<T extends { chunks: unknown[] }>(items: T[], limit: number): Generator<T[]> {
  let batch: T[] = []
  let size = 0
  for (const item of items) {
    if (batch.length > 0 && size + item.chunks.length > limit) {
      yield batch
      batch = []
      size = 0
    }
    batch.push(item)
    size += item.chunks.length
  }
  if (batch.length > 0) yield batch
}

/**
 * The signed-in user a search runs for. The query-vector cache is kept per user: a shared one
 * let anyone time whether someone else had recently sent a sentence (a hit skips the embedder).
 * Without one (anonymous search) nothing is cached, read or written.
 */
export type SearchCaller = Pick<AuthUser, 'id'>

/** Recent query vectors kept, so a repeated query costs no embedding call (OpenAI bills them). */
const QUERY_CACHE_SIZE = 500
/** How long a user's query text stays in memory as a cache key. */
const QUERY_CACHE_TTL_MS = 10 * 60_000

/**
 * The knowledge base: validated hybrid search (pgvector + full text), ingest with chunking and
 * batched embedding, the seeded framework passages, and grounding for coaching and guidance.
 */
export class KnowledgeService {
  #storedModels = new Set<string>()
  #backfilling: Promise<number> | undefined
  readonly #queryVectors = new LruTtl<number[]>(QUERY_CACHE_SIZE)

  constructor(
    private readonly store: KnowledgeStore,
    readonly embedder: Embedder,
    private readonly logger: Logger,
  ) {}

  /** At boot: seed the framework passages (idempotent), embed what has no vector yet. */
  async init(): Promise<void> {
    await this.#refreshModels()
    const seeded = await this.ingest(await frameworkPassages(this.store))
    if (seeded.documents > 0) this.logger.info({ ...seeded }, 'knowledge base seeded')
    await this.backfill()
    await this.#refreshModels()
  }

  /** Vectors exist from another model than the configured one: never compare across models. */
  get modelMismatch(): boolean {
    return [...this.#storedModels].some((m) => m !== this.embedder.model)
  }

  async search(input: SearchInput, caller?: SearchCaller): Promise<SearchResult> {
    // Grounding queries are built from unvalidated text too (coaching, guidance): never let a
    // NUL reach the full-text search's SQL.
    const query = storable(input.query)
    let embedding: number[] | null = null
    let degraded = false
    if (this.modelMismatch) {
      degraded = true
    } else {
      try {
        embedding = await this.#queryVector(query, caller)
      } catch (error) {
        if (!(error instanceof EmbedderUnavailableError)) throw error
        this.logger.warn({ err: error.cause ?? error }, 'embedder unavailable: lexical search')
        degraded = true
      }
    }
    const { rows, lexicalTerms } = await this.store.search({
      embedding,
      model: this.embedder.model,
      text: query,
      threshold: input.threshold ?? this.embedder.defaultThreshold,
      limit: input.limit,
      pillarId: input.pillar_id,
      mode: input.mode,
    })
    return {
      results: rows.map(present),
      search_mode: embedding === null ? 'lexical' : lexicalTerms ? 'hybrid' : 'vector',
      degraded,
    }
  }

  /**
   * Passages to ground an LLM answer in, and the sources to cite with it. The query holds the
   * user's own words: its vector is cached for `caller` alone.
   */
  async ground(
    query: string,
    filter: { pillar_id?: PillarId; mode?: Mode },
    limit: number,
    caller: SearchCaller | undefined,
  ) {
    const found = await this.search({ query, ...filter, limit }, caller)
    const sources = new Map<string, { id: string; title: string }>()
    for (const r of found.results) {
      const id = String(r.metadata.document_id ?? r.id)
      if (!sources.has(id)) sources.set(id, { id, title: String(r.metadata.title ?? 'Untitled') })
    }
    return { passages: found.results, sources: [...sources.values()], degraded: found.degraded }
  }

  async ingest(documents: IngestDocument[], onProgress?: (done: number) => void): Promise<IngestResult> {
    // Files (the CLI) and published content reach here unvalidated: what Postgres cannot hold is
    // dropped before hashing, so the hash is the stored text's.
    const prepared = documents
      .map((doc) => ({ content: storable(doc.content), metadata: storableDeep(doc.metadata) }))
      .map((doc) => ({ doc, hash: sha256(doc.content) }))
    const existing = await this.store.existingHashes(prepared.map((p) => p.hash))
    const seen = new Set<string>()
    const fresh = prepared.filter((p) => {
      if (existing.has(p.hash) || seen.has(p.hash)) return false
      seen.add(p.hash)
      return true
    })
    const pieces = fresh.map(({ doc }) => {
      const title = doc.metadata.title ?? firstLine(doc.content)
      const chunks = chunkText(doc.content)
      return { doc, title, chunks }
    })
    // Embed every new chunk in batches; if the embedder is down, store text only (searchable
    // lexically) and let a later backfill give them vectors.
    const vectors = await this.#embedOrNull(pieces.flatMap((p) => p.chunks.map((c) => c.content)))
    let offset = 0
    let stored = 0
    let chunkCount = 0
    let done = 0
    // One transaction per batch of documents (two multi-row inserts), not one per document:
    // each document paid a commit and two statements (measured: 31 → 49 chunks/s at 100k).
    for (const batch of batches(pieces, INGEST_BATCH_CHUNKS)) {
      const rows = batch.map(({ doc, title, chunks }) => {
        const chunkRows = this.#chunkRows(doc, title, chunks, vectors, offset)
        offset += chunks.length
        return {
          document: {
            title,
            source: doc.metadata.source ?? null,
            contentHash: sha256(doc.content),
            metadata: doc.metadata,
          },
          chunks: chunkRows,
        }
      })
      const inserted = await this.store.insertDocuments(rows)
      for (const [i, ok] of inserted.entries()) {
        if (!ok) continue
        stored++
        chunkCount += rows[i]?.chunks.length ?? 0
      }
      done += batch.length
      onProgress?.(done)
    }
    if (vectors && chunkCount > 0) {
      this.#storedModels.add(this.embedder.model)
      // The embedder works again: give earlier text-only chunks their vectors now.
      await this.backfill()
    }
    return {
      documents: stored,
      chunks: chunkCount,
      skipped_duplicates: documents.length - stored,
      embedding_model: vectors && chunkCount > 0 ? this.embedder.model : null,
    }
  }

  /**
   * Makes `doc` the only document of `source` (published content: `content:<id>`): chunked and
   * embedded like an ingested document, then swapped in for the source's old chunks in one
   * transaction. The embedder down: stored without vectors (found by full text, counted as
   * pending, filled in by `backfill`). The same text and metadata again: nothing is written.
   */
  /**
   * Replaces `source`'s chunks with `document`'s. `stillCurrent` runs inside the write's
   * transaction, under the source's lock: when it answers false (what was embedded is no longer
   * the current version), nothing is written.
   */
  async replaceSource(
    source: string,
    document: IngestDocument,
    stillCurrent?: (tx: Tx) => Promise<boolean>,
  ): Promise<ReplaceResult> {
    const content = storable(document.content)
    const metadata = storableDeep({ ...document.metadata, source })
    // Per source, not per text: two items with the same words are still two documents, and a
    // change of metadata alone (pillars, slug) replaces the chunks too.
    const contentHash = sha256(`${source}\u0000${JSON.stringify(metadata)}\u0000${content}`)
    if ((await this.store.existingHashes([contentHash])).has(contentHash)) {
      return { stored: false, replaced: 0, chunks: 0, embedding_model: null }
    }
    const title = metadata.title ?? firstLine(content)
    const chunks = chunkText(content)
    const vectors = await this.#embedOrNull(chunks.map((c) => c.content))
    const rows = this.#chunkRows({ content, metadata }, title, chunks, vectors, 0)
    const { stored, replaced } = await this.store.replaceSource(
      source,
      { title, source, contentHash, metadata },
      rows,
      stillCurrent,
    )
    const embedded = vectors !== null && rows.length > 0
    if (embedded) {
      this.#storedModels.add(this.embedder.model)
      // The embedder works again: fill in earlier pending chunks, without holding up the caller.
      void this.backfill().catch((error: unknown) =>
        this.logger.error({ err: error }, 'backfill after replacing a source failed'),
      )
    }
    return {
      stored,
      replaced,
      chunks: stored ? rows.length : 0,
      embedding_model: embedded ? this.embedder.model : null,
    }
  }

  /** Documents of content items that are no longer published; how many went. */
  removeStaleContent(): Promise<number> {
    return this.store.deleteStaleContent()
  }

  /** Removes every document and chunk of `source`; how many documents went. */
  removeSource(source: string): Promise<number> {
    return this.store.deleteSource(source)
  }

  /** Chunks stored without a vector, waiting for `backfill` (shown in `/ready`). */
  pendingEmbeddings(): Promise<number> {
    return this.store.pendingEmbeddings()
  }

  /**
   * Embeds chunks stored without a vector (ingested while the embedder was down). One run at a
   * time per instance: a caller arriving during a run shares it (housekeeping and a publish
   * would otherwise embed the same chunks twice).
   */
  backfill(batch = 200): Promise<number> {
    this.#backfilling ??= this.#backfill(batch).finally(() => {
      this.#backfilling = undefined
    })
    return this.#backfilling
  }

  async #backfill(batch: number): Promise<number> {
    if (this.modelMismatch) return 0
    let done = 0
    for (;;) {
      const missing = await this.store.missingEmbeddings(batch)
      if (missing.length === 0) return done
      let vectors: number[][]
      try {
        vectors = await this.embedder.embed(missing.map((m) => m.content))
      } catch (error) {
        if (!(error instanceof EmbedderUnavailableError)) throw error
        this.logger.warn({ pending: missing.length }, 'embedder unavailable: backfill postponed')
        return done
      }
      await this.store.setEmbeddings(
        missing.map((m, i) => ({ id: m.id, embedding: vectors[i] ?? [] })),
        this.embedder.model,
      )
      done += missing.length
      if (missing.length < batch) return done
    }
  }

  async forces(pillarId: PillarId) {
    const forces = await this.store.forces(pillarId)
    return {
      pillar: { id: pillarId, mode: PILLARS[pillarId].mode, title: PILLARS[pillarId].title },
      forces: forces.map((f) => ({ key: f.key, name: f.name, description: f.description })),
    }
  }

  async connections(filter: { mode?: Mode; pillar_id?: PillarId }) {
    return { connections: await this.store.connections({ mode: filter.mode, pillarId: filter.pillar_id }) }
  }

  /** For `/ready`. */
  readiness() {
    const breaker = this.embedder.health().breaker
    const mismatch = this.modelMismatch
    return {
      status: (mismatch || breaker === 'open' ? 'error' : 'ok') as 'ok' | 'error',
      provider: this.embedder.provider,
      model: this.embedder.model,
      ...(breaker ? { breaker } : {}),
      stored_models: [...this.#storedModels],
      ...(mismatch
        ? {
            problem: `stored vectors come from ${[...this.#storedModels].join(', ')}; search is lexical-only until re-embedded`,
          }
        : {}),
    }
  }

  /** Vectors for `texts`, or null when they must be stored without (embedder down, model mismatch). */
  async #embedOrNull(texts: string[]): Promise<number[][] | null> {
    if (this.modelMismatch) {
      // Never add a second model's vectors: store text only until the old ones are cleared.
      this.logger.warn(
        { chunks: texts.length },
        'stored vectors are from another model: ingesting without vectors',
      )
      return null
    }
    try {
      return texts.length > 0 ? await this.embedder.embed(texts) : []
    } catch (error) {
      if (!(error instanceof EmbedderUnavailableError)) throw error
      this.logger.warn(
        { err: error.cause ?? error, chunks: texts.length },
        'embedder unavailable: ingesting without vectors',
      )
      return null
    }
  }

  #chunkRows(
    doc: IngestDocument,
    title: string,
    chunks: ReturnType<typeof chunkText>,
    vectors: number[][] | null,
    offset: number,
  ): NewChunk[] {
    const { source, pillar_id, mode, slug, pillar_ids } = doc.metadata
    return chunks.map((c) => ({
      index: c.index,
      content: c.content,
      metadata: {
        title,
        kind: doc.metadata.kind ?? 'document',
        ...(source ? { source } : {}),
        ...(pillar_id ? { pillar_id } : {}),
        ...(mode ? { mode } : {}),
        ...(slug ? { slug } : {}),
        ...(pillar_ids ? { pillar_ids } : {}),
        ...(c.heading ? { heading: c.heading } : {}),
      },
      embedding: vectors?.[offset + c.index] ?? null,
      model: vectors ? this.embedder.model : null,
    }))
  }

  async #queryVector(query: string, caller: SearchCaller | undefined): Promise<number[]> {
    if (!caller) {
      const [vector = []] = await this.embedder.embed([query])
      return vector
    }
    // A user id holds no NUL, so the key cannot be forged across users.
    const key = `${caller.id}\u0000${query}`
    const now = Date.now()
    const cached = this.#queryVectors.get(key, now)
    if (cached) return cached
    const [vector = []] = await this.embedder.embed([query])
    this.#queryVectors.set(key, vector, now + QUERY_CACHE_TTL_MS)
    return vector
  }

  async #refreshModels() {
    this.#storedModels = new Set(await this.store.storedModels())
    if (this.modelMismatch) {
      this.logger.warn(
        { stored: [...this.#storedModels], configured: this.embedder.model },
        'stored embeddings come from another model: search is lexical-only',
      )
    }
  }
}

function present(row: SearchRow) {
  return {
    id: row.id,
    content: row.content,
    metadata: row.metadata,
    similarity: Math.round(row.similarity * 10_000) / 10_000,
  }
}

function firstLine(content: string): string {
  const line = content.split('\n').find((l) => l.trim()) ?? 'Untitled'
  return (
    line
      .replace(/^#+\s*/, '')
      .trim()
      .slice(0, 200) || 'Untitled'
  )
}
