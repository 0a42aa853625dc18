import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SwitchableEmbedder } from '@tests/fakes/embedders'
import { expectApi, type Json } from '@tests/helpers/api'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database } from '@/lib/db/database'
import { toVectorLiteral } from '@/lib/rag/embedder'
import { contentSource, KnowledgeContentIndexer } from '@/services/content/indexer'

/**
 * Published content in the knowledge base (issue 15, item 4): through the content routes (the
 * container wires the indexer into ContentService), and the indexer itself where the routes
 * cannot set the scene (concurrent calls, metadata details).
 */

/** The switchable fake, plus a hook that runs while a batch is being embedded. */
class HookedEmbedder extends SwitchableEmbedder {
  onEmbed: ((texts: string[]) => Promise<void>) | undefined
  override async embed(texts: string[]): Promise<number[][]> {
    await this.onEmbed?.(texts)
    return super.embed(texts)
  }
}

type Item = Parameters<KnowledgeContentIndexer['indexPublished']>[0]

let t: TestApp
let db: Database
let user: TestUser
let admin: TestUser
let assessmentId: string
let indexer: KnowledgeContentIndexer
const embedder = new HookedEmbedder()
const ids: string[] = []

/** A word no other text in the shared database has: found means found because of this test. */
const uniqueWord = () => `kw${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`

function article(overrides: Partial<Item> = {}): Item {
  const id = crypto.randomUUID()
  ids.push(id)
  return {
    id,
    slug: `article-${id.slice(0, 8)}`,
    title: `Speaking up in retrospectives ${id.slice(0, 8)}`,
    summary: 'How a team builds psychological safety one meeting at a time.',
    body: '## Why\n\nTeams that admit mistakes early fix them early.\n\n## How\n\nRotate the facilitator.',
    pillar_ids: ['divsexp'],
    ...overrides,
  }
}

/** Creates a draft through the API and publishes it; the item as the API answers it. */
async function publish(app: TestApp, fields: Partial<Item> = {}): Promise<Item> {
  const { id: _, ...draft } = article(fields)
  const created = await expectApi(app, admin, 'POST', '/content', { kind: 'blog', ...draft }, 201)
  const id = String(created.content.id)
  ids.push(id)
  const published = await expectApi(app, admin, 'POST', `/content/${id}/publish`)
  expect(published.content.status).toBe('published')
  return published.content as Item
}

// Threshold 0: these tests ask whether an item is in the knowledge base, not how well a bare
// word's vector matches it. With the local embedder (threshold 0.2), 14 in 1,000 random
// "kw…" words score below 0.2 against their own chunk (measured), and a chunk whose vector is
// below the threshold is left out even when its text matches: a 1.4 % chance of a false miss
// per search.
async function search(app: TestApp, query: string) {
  return (await expectApi(app, undefined, 'POST', '/rag/query', { query, limit: 50, threshold: 0 })) as {
    results: { id: string; content: string; metadata: Json; similarity: number }[]
    search_mode: string
    degraded: boolean
  }
}

/**
 * The results whose text holds `word`. A search for a word nothing holds may still answer: the
 * local embedder's character trigrams ("kw…" of every unique word) give unrelated passages a
 * vector similarity, so "not found" is about the text, never about an empty list.
 */
const mentioning = (found: { results: { content: string; metadata: Json }[] }, word: string) =>
  found.results.filter((r) => r.content.includes(word))

const chunksOf = (contentId: string) =>
  db.transaction((tx) =>
    tx.query<{ id: string; content: string; embedding_missing: boolean; metadata: Json }>(
      `select c.id, c.content, c.embedding is null as embedding_missing, c.metadata
         from public.knowledge_chunks c join public.knowledge_documents d on d.id = c.document_id
        where d.source = $1 order by c.chunk_index`,
      [contentSource(contentId)],
    ),
  )

const documentsOf = async (contentId: string) => {
  const [row] = await db.transaction((tx) =>
    tx.query<{ n: number }>('select count(*)::int as n from public.knowledge_documents where source = $1', [
      contentSource(contentId),
    ]),
  )
  return row?.n ?? 0
}

/** Chunk ids the vector half of match_knowledge alone returns (no query text, no threshold). */
async function vectorHits(query: string): Promise<string[]> {
  const [vector = []] = await embedder.inner.embed([query])
  const rows = await db.transaction((tx) =>
    tx.query<{ id: string }>(
      `select id from public.match_knowledge($1::text::vector, '', 0, 50, null, null, $2)`,
      [toVectorLiteral(vector), embedder.model],
    ),
  )
  return rows.map((r) => r.id)
}

async function coachingSources(message: string) {
  const body = await expectApi(t, user, 'POST', '/ai/coaching', { assessment_id: assessmentId, message })
  expect(body.provider).toBe('local')
  return body.sources as { id: string; title: string }[]
}

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH, { embedder })
  ;({ db } = await sharedDatabase())
  indexer = new KnowledgeContentIndexer(t.services.knowledge, t.services.logger)
  user = await newUser()
  admin = await newUser({ admin: true })
  const created = await expectApi(
    t,
    user,
    'POST',
    '/assessments',
    { pillar_id: 'divsexp', mode: 'egalitarian' },
    201,
  )
  assessmentId = created.assessment.id
  for (const [question_id, answer] of [
    ['divsexp.psychological_safety.1', 5],
    ['divsexp.challenge_welcome.1', 1],
  ] as const) {
    await expectApi(t, user, 'POST', `/assessments/${assessmentId}/answers`, { question_id, answer })
  }
  await expectApi(t, user, 'POST', `/assessments/${assessmentId}/complete`, {})
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  embedder.onEmbed = undefined
  // The shared database outlives this file: its items and their chunks go.
  await db.transaction(async (tx) => {
    await tx.query(
      `delete from public.knowledge_documents
        where source in (select 'content:' || x from jsonb_array_elements_text($1::text::jsonb) x)`,
      [JSON.stringify(ids)],
    )
    await tx.query(
      `delete from public.content where id in (select x::uuid from jsonb_array_elements_text($1::text::jsonb) x)`,
      [JSON.stringify(ids)],
    )
  })
})

describe('publishing puts an article in the knowledge base', () => {
  test('its unique sentence is found by /rag/query, with its title and source, and coaching cites it', async () => {
    const word = uniqueWord()
    const item = await publish(t, {
      body: `## Practice\n\nThe ${word} lantern ritual opens every retrospective with psychological safety.`,
    })

    const found = await search(t, `${word} lantern ritual`)
    const hit = found.results.find((r) => r.content.includes(word))
    expect(hit?.metadata).toMatchObject({
      kind: 'content',
      source: `content:${item.id}`,
      title: item.title,
      slug: item.slug,
      pillar_ids: ['divsexp'],
      pillar_id: 'divsexp',
      mode: 'egalitarian',
    })
    // The title and summary are part of the indexed text too.
    const [head] = await chunksOf(item.id)
    expect(head?.content).toContain(`# ${item.title}`)
    expect(head?.content).toContain(item.summary ?? '?')

    const sources = await coachingSources(`What is the ${word} lantern ritual?`)
    expect(sources).toContainEqual({ id: String(hit?.metadata.document_id), title: item.title })
  })

  test('archiving takes it out of search and coaching; publishing again brings it back; deleting removes it', async () => {
    const word = uniqueWord()
    const item = await publish(t, { body: `The ${word} lantern ritual is retired now.` })
    const found = async () => (await search(t, word)).results.some((r) => r.content.includes(word))
    expect(await found()).toBe(true)

    await expectApi(t, admin, 'POST', `/content/${item.id}/archive`)
    expect(await found()).toBe(false)
    expect(await documentsOf(item.id)).toBe(0)
    const sources = await coachingSources(`What is the ${word} lantern ritual?`)
    expect(sources.some((s) => s.title === item.title)).toBe(false)

    await expectApi(t, admin, 'POST', `/content/${item.id}/publish`)
    expect(await found()).toBe(true)
    await expectApi(t, admin, 'DELETE', `/content/${item.id}`, undefined, 204)
    expect(await found()).toBe(false)
    expect(await documentsOf(item.id)).toBe(0)
  })

  test('chat is grounded in it: the local answer quotes its sentence, and no longer once it is archived', async () => {
    const word = uniqueWord()
    const sentence = `The ${word} compass habit hands the facilitator role to the quietest person.`
    const item = await publish(t, { body: `## Habit\n\n${sentence}` })
    // The local provider answers only with sentences of the grounding passages it was given.
    const answer = async () => {
      const body = await expectApi(t, user, 'POST', '/ai/chat', {
        message: `What is the ${word} compass habit?`,
      })
      expect(body.provider).toBe('local')
      return String(body.message.content)
    }
    expect(await answer()).toContain(sentence)
    await expectApi(t, admin, 'POST', `/content/${item.id}/archive`)
    expect(await answer()).not.toContain(word)
  })

  test('a draft is not in the knowledge base', async () => {
    const word = uniqueWord()
    const { id: _, ...draft } = article({ body: `The ${word} draft is unfinished.` })
    const created = await expectApi(t, admin, 'POST', '/content', { kind: 'blog', ...draft }, 201)
    ids.push(String(created.content.id))
    expect(await documentsOf(String(created.content.id))).toBe(0)
    expect((await search(t, word)).results.some((r) => r.content.includes(word))).toBe(false)
  })

  test('pillar metadata: pillar_id only for exactly one pillar, mode only when all pillars share it', async () => {
    const sameMode = article({ pillar_ids: ['divsexp', 'indrecip'] })
    const mixed = article({ pillar_ids: ['divsexp', 'status'] })
    const none = article({ pillar_ids: [] })
    for (const item of [sameMode, mixed, none]) await indexer.indexPublished(item)
    const [a] = await chunksOf(sameMode.id)
    expect(a?.metadata).toMatchObject({ pillar_ids: ['divsexp', 'indrecip'], mode: 'egalitarian' })
    expect(a?.metadata.pillar_id).toBeUndefined()
    const [b] = await chunksOf(mixed.id)
    expect(b?.metadata.pillar_ids).toEqual(['divsexp', 'status'])
    expect(b?.metadata.pillar_id).toBeUndefined()
    expect(b?.metadata.mode).toBeUndefined()
    const [c] = await chunksOf(none.id)
    expect(c?.metadata).toMatchObject({ kind: 'content', pillar_ids: [] })
  })
})

describe('editing a published article', () => {
  // Three sections, so three chunks; the edit swaps one word for another of the same length.
  const body = (word: string) =>
    `## One\n\nThe ${word} checklist keeps reviews short.\n\n## Two\n\nNobody is blamed for a miss.\n\n## Three\n\nThe facilitator rotates weekly.`

  test('replaces its chunks: the same number for the same length, the old sentence gone, the new one found', async () => {
    const [oldWord, newWord] = [uniqueWord(), uniqueWord()]
    const item = await publish(t, { body: body(oldWord) })
    const before = await chunksOf(item.id)
    expect(before.length).toBe(4) // the title-and-summary chunk, then one per section

    // While the new version is being embedded, the old chunks are still all there.
    const seenDuringEmbed: number[] = []
    embedder.onEmbed = async () => {
      seenDuringEmbed.push((await chunksOf(item.id)).length)
    }
    try {
      await expectApi(t, admin, 'PATCH', `/content/${item.id}`, { body: body(newWord) })
    } finally {
      embedder.onEmbed = undefined
    }
    expect(seenDuringEmbed).toEqual([before.length])

    const after = await chunksOf(item.id)
    expect(after.length).toBe(before.length)
    expect(await documentsOf(item.id)).toBe(1)
    expect(after.some((c) => c.content.includes(oldWord))).toBe(false)
    expect(after.some((c) => before.some((b) => b.id === c.id))).toBe(false)
    expect((await search(t, oldWord)).results.some((r) => r.content.includes(oldWord))).toBe(false)
    expect((await search(t, newWord)).results.some((r) => r.content.includes(newWord))).toBe(true)
  })

  test('an unchanged item indexed again writes nothing; a change of pillars alone replaces', async () => {
    const item = article()
    await indexer.indexPublished(item)
    const first = await chunksOf(item.id)
    await indexer.indexPublished(item)
    expect((await chunksOf(item.id)).map((c) => c.id)).toEqual(first.map((c) => c.id))
    await indexer.indexPublished({ ...item, pillar_ids: ['indrecip'] })
    const moved = await chunksOf(item.id)
    expect(moved.length).toBe(first.length)
    expect(moved[0]?.metadata).toMatchObject({ pillar_id: 'indrecip', pillar_ids: ['indrecip'] })
  })

  test('edits and an archive sent at once are applied in order: the last call wins, one document at most', async () => {
    const words = [uniqueWord(), uniqueWord(), uniqueWord()]
    const item = article({ body: body(words[0] ?? '') })
    await indexer.indexPublished(item)
    await Promise.all(words.slice(1).map((w) => indexer.indexPublished({ ...item, body: body(w) })))
    expect(await documentsOf(item.id)).toBe(1)
    const last = await chunksOf(item.id)
    expect(last.some((c) => c.content.includes(words[2] ?? '?'))).toBe(true)
    expect(last.some((c) => c.content.includes(words[1] ?? '?'))).toBe(false)

    await Promise.all([
      indexer.indexPublished({ ...item, body: body(uniqueWord()) }),
      indexer.remove(item.id),
    ])
    expect(await documentsOf(item.id)).toBe(0)
  })
})

describe('the embedder down at publish', () => {
  test('publishing still succeeds, lexically searchable, /ready counts it pending; the retry embeds it', async () => {
    // Any backfill a publish above started has finished (a run in flight is shared).
    await t.services.knowledge.backfill()
    const broken = new SwitchableEmbedder()
    broken.down = true
    const down = await testApp(LOCAL_AUTH, { embedder: broken })
    const word = uniqueWord()
    // Publishing answers 200 and the item is published (publish() checks both).
    const item = await publish(down, { body: `During the outage the ${word} drill still ran.` })
    const chunks = await chunksOf(item.id)
    expect(chunks.length).toBeGreaterThan(0)
    expect(chunks.every((c) => c.embedding_missing)).toBe(true)

    const lexical = await search(down, `${word} drill`)
    expect(lexical).toMatchObject({ search_mode: 'lexical', degraded: true })
    expect(lexical.results.some((r) => r.content.includes(word))).toBe(true)
    const chunkIds = new Set(chunks.map((c) => c.id))
    expect(
      (await vectorHits(`During the outage the ${word} drill still ran.`)).some((id) => chunkIds.has(id)),
    ).toBe(false)

    const ready = (await (await down.request('/ready')).json()) as Json
    expect(ready.status).toBe('ready') // pending alone is a count, not a degradation
    expect(ready.checks.embeddings.status).toBe('ok')
    expect(ready.checks.embeddings.pending).toBeGreaterThanOrEqual(chunks.length)

    // The hourly housekeeping, on an instance whose embedder works, fills them in.
    await t.services.housekeeping.run()
    expect(await t.services.knowledge.pendingEmbeddings()).toBe(0)
    expect((await chunksOf(item.id)).every((c) => !c.embedding_missing)).toBe(true)
    const readyAfter = (await (await t.request('/ready')).json()) as Json
    expect(readyAfter.checks.embeddings.pending).toBe(0)
    const hits = await vectorHits(`During the outage the ${word} drill still ran.`)
    expect(hits.some((id) => chunkIds.has(id))).toBe(true)
  })
})

describe('published content the knowledge base lacks', () => {
  test('the seed pages and an item whose indexing never happened are indexed by indexMissing (start-up, hourly)', async () => {
    const word = uniqueWord()
    const [row] = await db.asService((tx) =>
      tx.query<{ id: string }>(
        `insert into public.content (slug, kind, title, body, status, published_at)
         values ($1, 'page', 'Published behind the indexer''s back', $2, 'published', now()) returning id`,
        [`unindexed-${word}`, `Only the backfill can make ${word} findable.`],
      ),
    )
    ids.push(String(row?.id))
    await expect(chunksOf(String(row?.id))).resolves.toHaveLength(0)
    expect(mentioning(await search(t, word), word)).toHaveLength(0)
    let indexed = 0
    for (let pass = 0; pass < 20; pass++) {
      const { indexed: n } = await t.services.content.indexMissing(100)
      indexed += n
      if (n === 0) break
    }
    expect(indexed).toBeGreaterThan(0)
    expect((await search(t, word)).results.map((r) => r.metadata.source)).toContain(`content:${row?.id}`)
    // The seed pages are there too, and a second pass finds nothing left to do.
    expect(
      (await search(t, 'how to read a team round results')).results.some(
        (r) => r.metadata.slug === 'reading-team-results',
      ),
    ).toBe(true)
    expect(await t.services.content.indexMissing(100)).toMatchObject({ indexed: 0 })
  })

  test('on the embedded database the hourly job keeps planner statistics (PGlite has no autovacuum): the tables written since, only', async () => {
    const counts = async () =>
      Object.fromEntries(
        (
          await db.transaction((tx) =>
            tx.query<{ relname: string; n: number }>(
              `select relname, analyze_count::int as n from pg_stat_user_tables
                where schemaname = 'public' and relname in ('content', 'badges')`,
            ),
          )
        ).map((r) => [r.relname, r.n]),
      )
    // Nothing pending, then one write to content (a draft nobody reads) and none to badges.
    await t.services.housekeeping.runJob('planner statistics')
    const before = await counts()
    const [draft] = await db.asService((tx) =>
      tx.query<{ id: string }>(
        `insert into public.content (slug, kind, title, body, status) values ($1, 'page', 't', 'b', 'draft') returning id`,
        [`planner-${crypto.randomUUID()}`],
      ),
    )
    if (draft) ids.push(draft.id)
    await t.services.housekeeping.runJob('planner statistics')
    const after = await counts()
    expect(typeof before.badges).toBe('number')
    expect(after.content).toBe(Number(before.content) + 1)
    expect(after.badges).toBe(before.badges)
    const [row] = await db.transaction((tx) =>
      tx.query<{ n: number }>(
        `select count(*)::int as n from pg_stats where schemaname = 'public' and tablename = 'content'`,
      ),
    )
    expect(row?.n).toBeGreaterThan(0)
  })
})

describe('a stale indexing never outlives a newer version', () => {
  test('indexing an old version after an archive writes nothing; the hourly job removes what SQL left behind', async () => {
    const item = await publish(t, { body: `Version one mentions ${uniqueWord()}.` })
    const [before] = await db.asService((tx) =>
      tx.query<{ key: string }>(
        `select to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as key from public.content where id = $1`,
        [item.id],
      ),
    )
    const oldWord = uniqueWord()
    await expectApi(t, admin, 'POST', `/content/${item.id}/archive`)
    expect(await chunksOf(item.id)).toHaveLength(0)
    // A slow run that embedded the published version before the archive finishes now.
    await indexer.indexPublished({
      ...item,
      body: `Late ${oldWord}.`,
      updated_key: before?.key,
    })
    expect(await chunksOf(item.id)).toHaveLength(0)
    expect(mentioning(await search(t, oldWord), oldWord)).toHaveLength(0)

    // An admin archives a published item through SQL (Supabase REST allows it): its chunks stay
    // until the hourly job, which removes documents of items no longer published.
    const other = await publish(t, { body: `Archived behind our back: ${uniqueWord()}.` })
    expect((await chunksOf(other.id)).length).toBeGreaterThan(0)
    await db.asService((tx) =>
      tx.query(`update public.content set status = 'archived' where id = $1`, [other.id]),
    )
    const { removed } = await t.services.content.indexMissing(0)
    expect(removed).toBeGreaterThan(0)
    expect(await chunksOf(other.id)).toHaveLength(0)
  })
})

describe('an edit whose indexing never happened', () => {
  test('the hourly job sees the document is of an older version and re-indexes the item', async () => {
    const oldWord = uniqueWord()
    const newWord = uniqueWord()
    const item = await publish(t, { body: `First text with ${oldWord}.` })
    // Edited where no indexer runs (SQL; or an indexing that failed after the edit committed).
    await db.asService((tx) =>
      tx.query('update public.content set body = $2 where id = $1', [
        item.id,
        `Second text with ${newWord}.`,
      ]),
    )
    expect(mentioning(await search(t, newWord), newWord)).toHaveLength(0)
    // The hourly job takes 100 items a run; the shared database may hold more behind (a serial
    // `bun test` runs every file over one), so run it until it has caught up.
    let indexed = 0
    for (let run = 0; run < 50; run++) {
      const done = await t.services.content.indexMissing(100)
      indexed += done.indexed
      if (done.indexed < 100) break
    }
    expect(indexed).toBeGreaterThan(0)
    expect(mentioning(await search(t, newWord), newWord).map((r) => r.metadata.source)).toContain(
      `content:${item.id}`,
    )
    expect(mentioning(await search(t, oldWord), oldWord)).toHaveLength(0)
  })
})
