-- Chunks stored without a vector (the embedder was down when they were ingested or published)
-- are searchable by full text and wait for the backfill, which reads them oldest first; /ready
-- counts them. A partial index keeps both cheap however large the knowledge base grows, and
-- costs nothing once every chunk has its vector.
create index if not exists knowledge_chunks_pending on public.knowledge_chunks (created_at, id)
  where embedding is null;

-- Replacing or removing a source's documents (every publish, edit, archive and delete of content)
-- looks them up by source.
create index if not exists knowledge_documents_source on public.knowledge_documents (source);
