import type { Database, Tx } from '@/lib/db/database'
import { toVectorLiteral } from '@/lib/rag/embedder'
import type { Mode, PillarId } from '@/services/pilar/framework'

export interface ChunkMetadata {
  title: string
  kind: 'pillar' | 'force' | 'connection' | 'document' | 'content'
  source?: string
  pillar_id?: PillarId
  mode?: Mode
  heading?: string
  [key: string]: unknown
}

export interface NewChunk {
  index: number
  content: string
  metadata: ChunkMetadata
  embedding: number[] | null
  model: string | null
}

export interface NewDocument {
  title: string
  source: string | null
  contentHash: string
  metadata: Record<string, unknown>
}

export interface SearchRow {
  id: string
  content: string
  metadata: ChunkMetadata & { document_id?: string }
  similarity: number
}

export interface SearchParams {
  embedding: number[] | null
  /** The model of `embedding`: only vectors of this model are compared with it. */
  model: string
  text: string
  threshold: number
  limit: number
  pillarId?: PillarId
  mode?: Mode
}

/** SQL for the knowledge base. Knowledge is public: reads and trusted writes run as the service. */
export class KnowledgeStore {
  #vectorType: Promise<string> | undefined

  constructor(private readonly db: Database) {}

  /**
   * pgvector's type, schema-qualified for the casts below: `extensions.vector`, or
   * `public.vector` on older Supabase projects that enabled it there. Looked up once.
   */
  #vector(): Promise<string> {
    this.#vectorType ??= this.db
      .asService((tx) =>
        tx.query<{ type: string }>(
          `select e.extnamespace::regnamespace::text || '.vector' as type
             from pg_catalog.pg_extension e where e.extname = 'vector'`,
        ),
      )
      .then(([row]) => {
        if (!row) throw new Error('the vector extension (pgvector) is not installed')
        return row.type
      })
      .catch((error: unknown) => {
        this.#vectorType = undefined // ask again next time (e.g. the database was down)
        throw error
      })
    return this.#vectorType
  }

  /** Hashes already stored, so ingest can skip them before embedding anything. */
  async existingHashes(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set()
    const rows = await this.db.asService((tx) =>
      tx.query<{ content_hash: string }>(
        `select content_hash from public.knowledge_documents
          where content_hash in (select jsonb_array_elements_text($1::text::jsonb))`,
        [JSON.stringify(hashes)],
      ),
    )
    return new Set(rows.map((r) => r.content_hash))
  }

  /** Stores a document and its chunks in one transaction; false when its hash already exists. */
  async insertDocument(document: NewDocument, chunks: NewChunk[]): Promise<boolean> {
    const [stored] = await this.insertDocuments([{ document, chunks }])
    return stored ?? false
  }

  /**
   * Stores documents and their chunks in one transaction of two multi-row statements (every
   * document row, then every chunk row): a batch pays one commit and one HNSW-maintaining insert
   * statement instead of one of each per document. Returns, per document in order, whether it
   * was stored (false: its hash already existed, or came earlier in the same batch).
   */
  async insertDocuments(batch: { document: NewDocument; chunks: NewChunk[] }[]): Promise<boolean[]> {
    if (batch.length === 0) return []
    const vector = await this.#vector()
    return this.db.asService(async (tx) => {
      const rows = await tx.query<{ id: string; content_hash: string }>(
        `insert into public.knowledge_documents (title, source, content_hash, metadata)
         select r.title, r.source, r.content_hash, r.metadata
           from jsonb_to_recordset($1::text::jsonb) as r(title text, source text, content_hash text, metadata jsonb)
         on conflict (content_hash) do nothing
         returning id, content_hash`,
        [
          JSON.stringify(
            batch.map(({ document: d }) => ({
              title: d.title,
              source: d.source,
              content_hash: d.contentHash,
              metadata: d.metadata,
            })),
          ),
        ],
      )
      const ids = new Map(rows.map((r) => [r.content_hash, r.id]))
      const stored = batch.map(({ document }) => {
        // A hash twice in one batch: the first holder gets the row.
        const id = ids.get(document.contentHash)
        ids.delete(document.contentHash)
        return id
      })
      await insertChunks(
        tx,
        vector,
        batch.flatMap(({ chunks }, i) => {
          const id = stored[i]
          return id ? chunks.map((c) => ({ ...c, documentId: id })) : []
        }),
      )
      return stored.map((id) => id !== undefined)
    })
  }

  /**
   * Puts `document` in place of every document of `source`, in one transaction: readers see the
   * old chunks or the new ones, never both and never none. Concurrent replacements of one source
   * queue on a transaction-scoped advisory lock, so two of them never leave two documents.
   * `replaced` counts the documents removed; `stored` is false when an identical document (same
   * hash) was already the source's only one, which is then left as it is.
   */
  async replaceSource(
    source: string,
    document: NewDocument,
    chunks: NewChunk[],
    stillCurrent?: (tx: Tx) => Promise<boolean>,
  ): Promise<{ stored: boolean; replaced: number }> {
    const vector = await this.#vector()
    return this.db.asService(async (tx) => {
      await lockSource(tx, source)
      // Under the lock: what was embedded may have been edited, archived or deleted meanwhile
      // (another instance, the hourly job's snapshot). A stale version writes nothing.
      if (stillCurrent && !(await stillCurrent(tx))) return { stored: false, replaced: 0 }
      const removed = await tx.query<{ id: string }>(
        `delete from public.knowledge_documents where source = $1 and content_hash <> $2 returning id`,
        [source, document.contentHash],
      )
      const id = await insertDocumentRow(tx, document)
      if (id)
        await insertChunks(
          tx,
          vector,
          chunks.map((c) => ({ ...c, documentId: id })),
        )
      return { stored: id !== null, replaced: removed.length }
    })
  }

  /** Removes every document (and, by cascade, chunk) of `source`; the number of documents removed. */
  async deleteSource(source: string): Promise<number> {
    return this.db.asService(async (tx) => {
      await lockSource(tx, source)
      const rows = await tx.query<{ id: string }>(
        'delete from public.knowledge_documents where source = $1 returning id',
        [source],
      )
      return rows.length
    })
  }

  /**
   * Removes the documents of `content:<id>` sources whose item is no longer published (archived
   * or deleted through SQL, or a removal that failed); the number removed.
   */
  async deleteStaleContent(): Promise<number> {
    const rows = await this.db.asService((tx) =>
      tx.query<{ id: string }>(
        `delete from public.knowledge_documents d
          where d.source like 'content:%'
            and not exists (select 1 from public.content c where d.source = 'content:' || c.id::text and c.status = 'published')
          returning d.id`,
      ),
    )
    return rows.length
  }

  /** How many chunks wait for a vector (stored while the embedder was down, or another model's). */
  async pendingEmbeddings(): Promise<number> {
    const [row] = await this.db.asService((tx) =>
      tx.query<{ pending: number }>(
        'select count(*)::int as pending from public.knowledge_chunks where embedding is null',
      ),
    )
    return Number(row?.pending ?? 0)
  }

  /** Runs match_knowledge; also says whether the text had any searchable words at all. */
  async search(params: SearchParams): Promise<{ rows: SearchRow[]; lexicalTerms: boolean }> {
    const vector = await this.#vector()
    return this.db.asService(async (tx) => {
      const [terms] = await tx.query<{ nodes: number }>(
        `select numnode(plainto_tsquery('english', $1))::int as nodes`,
        [params.text],
      )
      const rows = await tx.query<SearchRow>(
        `select m.id, m.content, m.metadata || jsonb_build_object('document_id', c.document_id) as metadata,
                m.similarity::float8 as similarity
           from public.match_knowledge($1::text::${vector}, $2, $3, $4, $5, $6, $7) m
           join public.knowledge_chunks c on c.id = m.id`,
        [
          params.embedding ? toVectorLiteral(params.embedding) : null,
          params.text,
          params.threshold,
          params.limit,
          params.pillarId ?? null,
          params.mode ?? null,
          params.model,
        ],
      )
      return {
        rows: rows.map((r) => ({ ...r, similarity: Number(r.similarity) })),
        lexicalTerms: Number(terms?.nodes) > 0,
      }
    })
  }

  /** The distinct models of the stored vectors. */
  async storedModels(): Promise<string[]> {
    const rows = await this.db.asService((tx) =>
      tx.query<{ model: string }>(
        'select distinct embedding_model as model from public.knowledge_chunks where embedding_model is not null',
      ),
    )
    return rows.map((r) => r.model)
  }

  async missingEmbeddings(limit: number): Promise<{ id: string; content: string }[]> {
    return this.db.asService((tx) =>
      tx.query(
        'select id, content from public.knowledge_chunks where embedding is null order by created_at, id limit $1',
        [limit],
      ),
    )
  }

  async setEmbeddings(rows: { id: string; embedding: number[] }[], model: string): Promise<void> {
    if (rows.length === 0) return
    const vector = await this.#vector()
    await this.db.asService((tx) =>
      tx.query(
        `update public.knowledge_chunks c
            set embedding = r.embedding::${vector}, embedding_model = $2
           from jsonb_to_recordset($1::text::jsonb) as r(id uuid, embedding text)
          where c.id = r.id`,
        [JSON.stringify(rows.map((r) => ({ id: r.id, embedding: toVectorLiteral(r.embedding) }))), model],
      ),
    )
  }

  async pillar(id: PillarId) {
    const [row] = await this.db.asService((tx) =>
      tx.query<{ id: PillarId; mode: Mode; title: string; description: string }>(
        'select id, mode, title, description from public.pillars where id = $1',
        [id],
      ),
    )
    return row
  }

  async pillars() {
    return this.db.asService((tx) =>
      tx.query<{ id: PillarId; mode: Mode; title: string; abbreviation: string; description: string }>(
        'select id, mode, title, abbreviation, description from public.pillars order by mode, id',
      ),
    )
  }

  async forces(pillarId?: PillarId) {
    return this.db.asService((tx) =>
      tx.query<{ pillar_id: PillarId; key: string; name: string; description: string }>(
        `select pillar_id, key, name, description from public.forces
          where $1::text is null or pillar_id = $1 order by pillar_id, position`,
        [pillarId ?? null],
      ),
    )
  }

  async connections(filter: { mode?: Mode; pillarId?: PillarId }) {
    return this.db.asService((tx) =>
      tx.query<{
        id: string
        mode: Mode
        name: string | null
        type: 'reinforce' | 'inverse' | 'discretionary'
        from_pillar: PillarId
        to_pillar: PillarId
        description: string
      }>(
        `select id, mode, name, type, from_pillar, to_pillar, description from public.force_connections
          where ($1::text is null or mode = $1)
            and ($2::text is null or from_pillar = $2 or to_pillar = $2)
          order by id`,
        [filter.mode ?? null, filter.pillarId ?? null],
      ),
    )
  }
}

/** Inserts the document row; its id, or null when a document with its hash already exists. */
async function insertDocumentRow(tx: Tx, document: NewDocument): Promise<string | null> {
  const [row] = await tx.query<{ id: string }>(
    `insert into public.knowledge_documents (title, source, content_hash, metadata)
     values ($1, $2, $3, $4::text::jsonb)
     on conflict (content_hash) do nothing
     returning id`,
    [document.title, document.source, document.contentHash, JSON.stringify(document.metadata)],
  )
  return row?.id ?? null
}

/** Every chunk in one multi-row insert (one statement, whatever the number of documents). */
async function insertChunks(
  tx: Tx,
  vector: string,
  chunks: (NewChunk & { documentId: string })[],
): Promise<void> {
  if (chunks.length === 0) return
  const records = chunks.map((c) => ({
    document_id: c.documentId,
    chunk_index: c.index,
    content: c.content,
    metadata: c.metadata,
    embedding: c.embedding ? toVectorLiteral(c.embedding) : null,
    embedding_model: c.embedding ? c.model : null,
  }))
  await tx.query(
    `insert into public.knowledge_chunks (document_id, chunk_index, content, metadata, embedding, embedding_model)
     select r.document_id, r.chunk_index, r.content, r.metadata, r.embedding::${vector}, r.embedding_model
       from jsonb_to_recordset($1::text::jsonb)
         as r(document_id uuid, chunk_index integer, content text, metadata jsonb, embedding text, embedding_model text)`,
    [JSON.stringify(records)],
  )
}

/** Serializes writers of one source until the end of the transaction. */
async function lockSource(tx: Tx, source: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtextextended('knowledge source:' || $1, 0))`, [source])
}
