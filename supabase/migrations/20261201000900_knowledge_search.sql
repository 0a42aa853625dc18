-- Knowledge search at scale (issue 17): match_knowledge, same signature, grants and results'
-- semantics, with every step bounded so that a call costs the same at 100,000 chunks as at 1,000.
--
-- Measured at 100,000 chunks (tests/bench/rag.ts, tasks/17-rag-scale.md): the old body ranked
-- every full-text match of the OR-of-words query (ts_rank_cd over ~15% of the table, then a sort)
-- before keeping 40; that was almost all of its 170–380 ms. Here:
-- - Full text: candidates come from the GIN index in tiers — chunks with at least three of the
--   query's words, then with at least two, then with any — and at most `pool` of them (300, or
--   10 per result asked) are ranked with ts_rank_cd over the OR-of-words query, as before. The
--   first two tiers are one small GIN scan per triple (pair) of words, stopped as soon as the
--   pool is full, rather than one scan of an OR of them all: each AND scan is led by its rarest
--   word, and a common word's posting list (up to 8 % of the table) is never merged whole. Only
--   the best k * 4 go on to fusion, as before. ts_rank_cd of an OR query counts occurrences of
--   the words, so the chunks that can make the top k are those with several of them: at 100,000
--   chunks the old exhaustive top 40 lay 37–40 in the "three words" tier (250–360 chunks) of
--   10,000–16,000 matches. The bound drops the weakest matches first, not arbitrary ones; the
--   price is measured as the agreement of the fused top 10 with the old body's (tasks/17).
-- - Vectors: the HNSW index with ef_search 100, chosen from the recall/latency curve on the
--   dense benchmark corpus (docs/operations.md): at 100,000 chunks 64 reached recall@10 0.966
--   with one query at 0, 100 reached 0.986 with none below 0.9, for ~1 ms more; iterative scans
--   so filtered searches still find k * 4 candidates; the distances computed there are reused
--   instead of being computed again.
-- - Fusion: RRF (k = 60) of the two bounded lists, as before; each chunk once (a full outer join
--   on id); the threshold applies to vector similarity of comparable vectors; text-only hits
--   (no vector, another model, no query vector) score their normalized rank r / (1 + r).
--
-- - GIN without a pending list: with fastupdate, new entries wait in a list every search reads
--   in full until a vacuum merges them. The embedded database (PGlite) never autovacuums, so its
--   list was always up to 4 MB long: measured at 5,000 chunks, one full-text index scan took
--   14 ms with the list and 3 ms without. Inserts now update the index directly (ingest is
--   dominated by embedding and HNSW anyway), and what waits in the list is merged now.
--
-- pgvector's schema is looked up (extensions, or public on older projects) as in
-- 20261122000400_knowledge.sql; hnsw.iterative_scan is set only where pgvector (0.8+) has it.
do $match_knowledge$
declare
  vector_schema text;
  iterative_scan boolean;
begin
  select e.extnamespace::regnamespace::text,
         pg_catalog.string_to_array(pg_catalog.split_part(e.extversion, '-', 1), '.')::int[] >= array[0, 8]
    into vector_schema, iterative_scan
    from pg_catalog.pg_extension e
   where e.extname = 'vector';
  execute format($sql$
create or replace function public.match_knowledge(
  query_embedding %1$s.vector(1536),
  query_text text,
  match_threshold double precision default 0.5,
  match_count integer default 10,
  filter_pillar text default null,
  filter_mode text default null,
  query_model text default null
) returns table (id uuid, content text, metadata jsonb, similarity double precision)
language sql
stable
security invoker
set search_path = ''
set enable_seqscan = off
set hnsw.ef_search = 100
%2$s
as $body$
  with settings as (
    select s.k, s.k * 4 as candidates, greatest(300, s.k * 10) as pool,
           least(greatest(coalesce(match_threshold, 0.5), 0), 1) as threshold,
           case when filter_pillar is null and filter_mode is null then null
                else pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('pillar_id', filter_pillar, 'mode', filter_mode))
           end as filter
      from (select least(greatest(coalesce(match_count, 10), 1), 50) as k) s
  ),
  -- The query's terms as plainto_tsquery writes them (each quoted, or a phrase of a hyphenated
  -- word), distinct and sorted; the tiers below use the first ten.
  terms as materialized (
    select array(select distinct t from pg_catalog.unnest(pg_catalog.string_to_array(
             pg_catalog.plainto_tsquery('english', coalesce(query_text, ''))::text, ' & ')) as t
           where t <> '' order by t) as items
  ),
  -- Each term parsed once (the first ten: the tiers' pairs and triples grow as n^2 and n^3).
  words as materialized (
    select w.n, w.t::pg_catalog.tsquery as q
      from terms, pg_catalog.unnest(terms.items[1:10]) with ordinality as w(t, n)
  ),
  -- The OR of every word (what is ranked), and every pair and every triple of words as its own
  -- AND query, combined with && (no text to parse). An array of small AND queries is one GIN
  -- scan each, led by the rarest word's posting list; one OR of them all made the index merge
  -- every word's list and test the whole query on each chunk in it (at 100,000 chunks, 22 ms
  -- for a query's triples against 8 ms as an array).
  queries as materialized (
    select coalesce(pg_catalog.array_to_string(array(select '(' || i || ')' from pg_catalog.unnest(t.items) i), ' | '), '')::pg_catalog.tsquery as any_word,
           array(select x.q operator(pg_catalog.&&) y.q from words x, words y where x.n < y.n) as pairs,
           array(select x.q operator(pg_catalog.&&) y.q operator(pg_catalog.&&) z.q
                   from words x, words y, words z where x.n < y.n and y.n < z.n) as triples
      from terms t
  ),
  vector_hits as (
    select h.id, h.distance, row_number() over (order by h.distance, h.id) as rank
      from (
        select c.id, c.embedding operator(%1$s.<=>) query_embedding as distance
          from public.knowledge_chunks c
         where query_embedding is not null
           and c.embedding is not null
           and (query_model is null or c.embedding_model = query_model)
           and ((select filter from settings) is null or c.metadata operator(pg_catalog.@>) (select filter from settings))
         order by c.embedding operator(%1$s.<=>) query_embedding
         limit (select candidates from settings)
      ) h
  ),
  -- Bounded: at most `pool` matches, best tier first; a tier runs only while the better ones
  -- hold fewer than twice the candidates needed (most queries stop after the first tier). The
  -- nested loop over the word triples stops at the limit; a chunk with four words matches
  -- several triples, hence the distinct. A later tier leaves out the ids of the earlier ones
  -- (cheaper than testing the earlier tier's queries again, and exact: it runs only when the
  -- earlier tiers are short of the pool).
  three_hits as (
    select distinct h.id, h.fts
      from (
        select c.id, c.fts
          from pg_catalog.unnest((select triples from queries)) q
         cross join lateral (
           select c.id, c.fts
             from public.knowledge_chunks c
            where c.fts operator(pg_catalog.@@) q
              and ((select filter from settings) is null or c.metadata operator(pg_catalog.@>) (select filter from settings))
         ) c
         limit (select pool from settings)
      ) h
  ),
  two_hits as (
    select distinct h.id, h.fts
      from (
        select c.id, c.fts
          from pg_catalog.unnest((select pairs from queries)) q
         cross join lateral (
           select c.id, c.fts
             from public.knowledge_chunks c
            where c.fts operator(pg_catalog.@@) q
              and ((select filter from settings) is null or c.metadata operator(pg_catalog.@>) (select filter from settings))
         ) c
         where (select count(*) from three_hits) < (select candidates * 2 from settings)
           and c.id not in (select id from three_hits)
         limit (select pool from settings) - (select count(*) from three_hits)
      ) h
  ),
  any_hits as (
    select c.id, c.fts
      from public.knowledge_chunks c
     where (select count(*) from three_hits) + (select count(*) from two_hits) < (select candidates * 2 from settings)
       and c.fts operator(pg_catalog.@@) (select any_word from queries)
       and c.id not in (select id from three_hits)
       and c.id not in (select id from two_hits)
       and ((select filter from settings) is null or c.metadata operator(pg_catalog.@>) (select filter from settings))
     limit (select pool from settings) - (select count(*) from three_hits) - (select count(*) from two_hits)
  ),
  text_pool as (
    select id, fts from three_hits
    union all
    select id, fts from two_hits
    union all
    select id, fts from any_hits
  ),
  text_hits as (
    select r.id, r.text_rank, row_number() over (order by r.text_rank desc, r.id) as rank
      from (
        select p.id, pg_catalog.ts_rank_cd(p.fts, (select any_word from queries)) as text_rank
          from text_pool p
         order by text_rank desc, p.id
         limit (select candidates from settings)
      ) r
  ),
  fused as (
    select coalesce(v.id, t.id) as id,
           coalesce(1.0 / (60 + v.rank), 0) + coalesce(1.0 / (60 + t.rank), 0) as score,
           coalesce(t.text_rank, 0) as text_rank,
           v.distance
      from vector_hits v
      full outer join text_hits t on t.id = v.id
  ),
  scored as (
    select c.id, c.content, c.metadata, f.score,
           query_embedding is not null and c.embedding is not null
             and (query_model is null or c.embedding_model = query_model) as comparable,
           case when query_embedding is not null and c.embedding is not null
                     and (query_model is null or c.embedding_model = query_model)
                then 1 - coalesce(f.distance, c.embedding operator(%1$s.<=>) query_embedding)
                else f.text_rank / (1 + f.text_rank) end as similarity
      from fused f
      join public.knowledge_chunks c on c.id = f.id
  )
  select s.id, s.content, s.metadata, s.similarity
    from scored s
   where not s.comparable or s.similarity >= (select threshold from settings)
   order by s.score desc, s.id
   limit (select k from settings)
$body$;

revoke execute on function public.match_knowledge(%1$s.vector, text, double precision, integer, text, text, text) from public;
grant execute on function public.match_knowledge(%1$s.vector, text, double precision, integer, text, text, text)
  to anon, authenticated, service_role;
  $sql$, vector_schema, case when iterative_scan then 'set hnsw.iterative_scan = relaxed_order' else '' end);
end
$match_knowledge$;

alter index public.knowledge_chunks_fts set (fastupdate = off);
alter index public.knowledge_chunks_metadata set (fastupdate = off);
select pg_catalog.gin_clean_pending_list('public.knowledge_chunks_fts'::regclass),
       pg_catalog.gin_clean_pending_list('public.knowledge_chunks_metadata'::regclass);
