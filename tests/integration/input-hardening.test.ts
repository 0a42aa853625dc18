import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeAnthropic } from '@tests/fakes/anthropic'
import { SwitchableEmbedder } from '@tests/fakes/embedders'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import { type ServedApp, servedApp } from '@tests/helpers/serve'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { ErrorBody } from '@/lib/errors/api-error'

// Issue 12, items 3.2 (NUL and lone surrogates), 3.3 (tampered cursors), 3.5 (the query-vector
// cache is per user) and 3.6 (chat history sent to Anthropic starts with the user and alternates).

const openai = new FakeOpenAI().start()
const anthropic = new FakeAnthropic().start()
const embedder = new SwitchableEmbedder()
let local: TestApp // defaults: local LLM; the counting embedder
let openaiApp: TestApp // the OpenAI fake as the only provider
let anthropicApp: TestApp // LLM_PROVIDER=anthropic pointed at the (rule-enforcing) fake
let served: ServedApp
let alice: TestUser
let bob: TestUser
let admin: TestUser

beforeAll(async () => {
  local = await testApp(LOCAL_AUTH, { embedder })
  openaiApp = await testApp(LOCAL_AUTH, { llm: fakeOpenAIRouter(openai) })
  anthropicApp = await testApp({
    ...LOCAL_AUTH,
    LLM_PROVIDER: 'anthropic',
    LLM_FALLBACK_PROVIDERS: '',
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_CHAT_MODEL: 'claude-test',
    ANTHROPIC_BASE_URL: anthropic.baseURL,
  })
  served = await servedApp(LOCAL_AUTH)
  alice = await newUser()
  bob = await newUser()
  admin = await newUser({ admin: true })
}, DB_SETUP_TIMEOUT_MS)
afterAll(async () => {
  await Promise.all([openai.stop(), anthropic.stop(), served.stop()])
  const { db } = await sharedDatabase()
  await db.transaction((tx) => tx.query(`delete from public.knowledge_documents where source like 'test:%'`))
})
beforeEach(() => {
  openai.reset()
  anthropic.reset()
})

type Send = (path: string, init?: RequestInit) => Promise<Response>

const post = (send: Send, path: string, body: unknown, user?: TestUser) =>
  send(path, {
    method: 'POST',
    headers: { ...(user?.headers ?? {}), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

async function expectValidation(response: Response, field: string) {
  expect(response.status).toBe(400)
  const body = (await response.json()) as ErrorBody
  expect(body.error.code).toBe('VALIDATION_ERROR')
  expect(body.error.details).toContainEqual(expect.objectContaining({ field }))
}

type ChatAnswer = { conversation_id: string; message: { id: string; content: string }; provider: string }

async function storedMessages(app: TestApp, user: TestUser, conversationId: string) {
  const response = await app.request(`/api/v1/ai/conversations/${conversationId}/messages?limit=100`, {
    headers: user.headers,
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { data: { role: string; content: string }[] }).data
}

describe('3.2 NUL and lone surrogates in free text', () => {
  // JSON.stringify writes both as \u escapes: exactly what a client can send.
  const bad = [
    ['NUL', 'before\u0000after'],
    ['a lone high surrogate', 'before\ud800after'],
    ['a lone low surrogate', 'before\udc00after'],
  ] as const
  const fields: [string, string, (text: string) => unknown, string, () => TestUser][] = [
    ['chat message', '/api/v1/ai/chat', (text) => ({ message: text }), 'body.message', () => alice],
    [
      'guidance context',
      '/api/v1/ai/guidance',
      (text) => ({ pillar_id: 'divsexp', mode: 'egalitarian', context: text }),
      'body.context',
      () => alice,
    ],
    [
      'coaching message',
      '/api/v1/ai/coaching',
      (text) => ({ assessment_id: crypto.randomUUID(), message: text }),
      'body.message',
      () => alice,
    ],
    [
      'analyze content',
      '/api/v1/ai/analyze-content',
      (text) => ({ content: text }),
      'body.content',
      () => alice,
    ],
    [
      'analyze content_type',
      '/api/v1/ai/analyze-content',
      (text) => ({ content: 'A team that shares credit', content_type: text }),
      'body.content_type',
      () => alice,
    ],
    ['rag query', '/api/v1/rag/query', (text) => ({ query: text }), 'body.query', () => alice],
    [
      'ingest content',
      '/api/v1/rag/ingest',
      (text) => ({ documents: [{ content: text }] }),
      'body.documents.0.content',
      () => admin,
    ],
    [
      'ingest title',
      '/api/v1/rag/ingest',
      (text) => ({ documents: [{ content: 'Some text', metadata: { title: text } }] }),
      'body.documents.0.metadata.title',
      () => admin,
    ],
    [
      'ingest source',
      '/api/v1/rag/ingest',
      (text) => ({ documents: [{ content: 'Some text', metadata: { source: text } }] }),
      'body.documents.0.metadata.source',
      () => admin,
    ],
  ]
  for (const [name, path, body, field, user] of fields) {
    test(`${name}: NUL or a lone surrogate → 400 VALIDATION_ERROR naming ${field}`, async () => {
      for (const [, text] of bad)
        await expectValidation(await post(local.request, path, body(text), user()), field)
    })
  }

  test('over a real socket too: chat, guidance and ingest refuse NUL with 400 naming the field', async () => {
    const send: Send = served.fetch
    await expectValidation(
      await post(send, '/api/v1/ai/chat', { message: 'a\u0000b' }, alice),
      'body.message',
    )
    await expectValidation(
      await post(
        send,
        '/api/v1/ai/guidance',
        { pillar_id: 'divsexp', mode: 'egalitarian', context: '\u0000' },
        alice,
      ),
      'body.context',
    )
    await expectValidation(
      await post(send, '/api/v1/rag/ingest', { documents: [{ content: 'x\ud800' }] }, admin),
      'body.documents.0.content',
    )
  })

  test('text with real emoji (surrogate pairs) and other languages is accepted', async () => {
    const response = await post(
      local.request,
      '/api/v1/ai/chat',
      { message: 'Vertrauen 🤝 信頼 — how?' },
      alice,
    )
    expect(response.status).toBe(200)
  })

  test('a model answer holding NUL and a lone surrogate is stored without them, not a 500', async () => {
    openai.replyText = 'Keep\u0000 small \ud800promises.'
    const response = await post(
      openaiApp.request,
      '/api/v1/ai/chat',
      { message: 'How do we rebuild trust?' },
      alice,
    )
    expect(response.status).toBe(200)
    const body = (await response.json()) as ChatAnswer
    expect(body.message.content).toBe('Keep small promises.')
    const stored = await storedMessages(openaiApp, alice, body.conversation_id)
    expect(stored.map((m) => m.content)).toEqual(['How do we rebuild trust?', 'Keep small promises.'])
  })

  test('a streamed answer holding NUL is stored without it, and the stream ends in done', async () => {
    openai.replyText = 'Rotate\u0000 the facilitator.'
    const response = await post(
      openaiApp.request,
      '/api/v1/ai/chat',
      { message: 'Retro tips?', stream: true },
      alice,
    )
    expect(response.status).toBe(200)
    const events: EventSourceMessage[] = []
    const parser = createParser({ onEvent: (event) => events.push(event) })
    parser.feed(await response.text())
    expect(events.at(-1)?.event).toBe('done')
    const meta = JSON.parse(events[0]?.data ?? '{}') as { conversation_id: string }
    const stored = await storedMessages(openaiApp, alice, meta.conversation_id)
    expect(stored.at(-1)?.content).toBe('Rotate the facilitator.')
  })

  test('coaching and quiz JSON written by a model carry no NUL or lone surrogate on', async () => {
    const assessment = (await (
      await post(
        openaiApp.request,
        '/api/v1/assessments',
        { pillar_id: 'divsexp', mode: 'egalitarian' },
        alice,
      )
    ).json()) as { assessment: { id: string } }
    const id = assessment.assessment.id
    await post(
      openaiApp.request,
      `/api/v1/assessments/${id}/answers`,
      { question_id: 'divsexp.psychological_safety.1', answer: 4 },
      alice,
    )
    await post(openaiApp.request, `/api/v1/assessments/${id}/complete`, {}, alice)
    openai.replyText = JSON.stringify({
      summary: 'Strong\u0000 safety.',
      strengths: ['Safety\ud800'],
      growth_areas: [],
      actions: ['Run a\u0000 pre-mortem'],
    })
    const coaching = await post(openaiApp.request, '/api/v1/ai/coaching', { assessment_id: id }, alice)
    expect(coaching.status).toBe(200)
    expect(((await coaching.json()) as { coaching: unknown }).coaching).toEqual({
      summary: 'Strong safety.',
      strengths: ['Safety'],
      growth_areas: [],
      actions: ['Run a pre-mortem'],
    })
    openai.replyText = JSON.stringify({
      questions: [
        {
          question: 'Which force\u0000 is about speaking up safely?',
          options: ['Psychological Safety\udc00', 'Status'],
          correct_index: 0,
          force_key: 'psychological_safety',
          difficulty: 'easy',
        },
      ],
    })
    const quiz = await post(
      openaiApp.request,
      '/api/v1/ai/quiz-questions',
      { pillar_id: 'divsexp', mode: 'egalitarian', count: 1 },
      alice,
    )
    expect(quiz.status).toBe(200)
    expect(((await quiz.json()) as { questions: unknown[] }).questions).toEqual([
      expect.objectContaining({
        question: 'Which force is about speaking up safely?',
        options: ['Psychological Safety', 'Status'],
      }),
    ])
  })

  test('ingest through the service (CLI, published content) stores text without NUL instead of failing', async () => {
    const tag = crypto.randomUUID()
    const result = await local.services.knowledge.ingest([
      {
        content: `# Shared\u0000 credit ${tag}\n\nCredit is shared\ud800 openly ${tag}.`,
        metadata: { title: `Credit\u0000 ${tag}`, source: `test:${tag}\u0000` },
      },
    ])
    expect(result).toMatchObject({ documents: 1, skipped_duplicates: 0 })
    const found = (await (
      await post(local.request, '/api/v1/rag/query', { query: `shared credit ${tag}` })
    ).json()) as {
      results: { content: string; metadata: { title: string; source: string } }[]
    }
    const hit = found.results.find((r) => r.content.includes(tag))
    expect(hit?.metadata).toMatchObject({ title: `Credit ${tag}`, source: `test:${tag}` })
    expect(hit?.content).not.toContain('\u0000')
    expect(hit?.content).not.toContain('\ufffd')
  })
})

describe('3.3 cursors', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const id = crypto.randomUUID()
  const tampered: [string, string][] = [
    ['year 0000', b64(['0000-01-01T00:00:00.000000Z', id])],
    ['year 0000, end of year', b64(['0000-12-31T23:59:59.999999Z', id])],
    ['year 10000', b64(['10000-01-01T00:00:00.000000Z', id])],
    ['a negative year', b64(['-0001-01-01T00:00:00.000000Z', id])],
    ['an extended year', b64(['+275760-09-13T00:00:00.000000Z', id])],
    ['30 February', b64(['2024-02-30T00:00:00.000000Z', id])],
    ['hour 24', b64(['2024-01-01T24:00:00.000000Z', id])],
    ['a leap second', b64(['2016-12-31T23:59:60.000000Z', id])],
    ['milliseconds only', b64(['2024-01-01T00:00:00.000Z', id])],
    ['a time zone offset', b64(['2024-01-01T00:00:00.000000+01:00', id])],
    ['not base64', '!!!not*base64!!!'],
    ['base64 of no JSON', Buffer.from('hello').toString('base64url')],
    ['an object', b64({ at: '2024-01-01T00:00:00.000000Z', id })],
    ['one element', b64(['2024-01-01T00:00:00.000000Z'])],
    ['three elements', b64(['2024-01-01T00:00:00.000000Z', id, 'x'])],
    ['swapped', b64([id, '2024-01-01T00:00:00.000000Z'])],
    ['not a uuid', b64(['2024-01-01T00:00:00.000000Z', 'not-a-uuid'])],
    ['numbers', b64([1704067200000, 7])],
    ['null', b64(null)],
    ['a valid cursor with a character appended', `${b64(['2024-01-01T00:00:00.000000Z', id])}!`],
    ['a valid cursor with padding', `${b64(['2024-01-01T00:00:00.000000Z', id])}==`],
  ]
  const lists = ['/api/v1/assessments', '/api/v1/ai/conversations']

  for (const path of lists) {
    test(`${path}: every tampered cursor → 400 VALIDATION_ERROR on query.cursor, never 5xx`, async () => {
      for (const [name, cursor] of tampered) {
        const response = await local.request(`${path}?cursor=${encodeURIComponent(cursor)}`, {
          headers: alice.headers,
        })
        if (response.status !== 400) throw new Error(`${name}: ${response.status} ${await response.text()}`)
        await expectValidation(response, 'query.cursor')
      }
    })
  }

  test('well-formed cursors with a foreign id page correctly: after year 9999 everything, before year 0001 nothing', async () => {
    const carol = await newUser()
    await post(local.request, '/api/v1/assessments', { pillar_id: 'divsexp', mode: 'egalitarian' }, carol)
    await post(local.request, '/api/v1/ai/chat', { message: 'A first question' }, carol)
    for (const path of lists) {
      const all = (await (await local.request(path, { headers: carol.headers })).json()) as {
        data: { id: string }[]
      }
      expect(all.data).toHaveLength(1)
      const late = await local.request(`${path}?cursor=${b64(['9999-12-31T23:59:59.999999Z', id])}`, {
        headers: carol.headers,
      })
      expect(late.status).toBe(200)
      expect(((await late.json()) as { data: { id: string }[] }).data.map((r) => r.id)).toEqual(
        all.data.map((r) => r.id),
      )
      const early = await local.request(`${path}?cursor=${b64(['0001-01-01T00:00:00.000000Z', id])}`, {
        headers: carol.headers,
      })
      expect(early.status).toBe(200)
      expect(await early.json()).toEqual({ data: [], next_cursor: null })
    }
  })

  test('messages of a conversation: year 0000 → 400, and over a real socket the same', async () => {
    const chat = (await (
      await post(local.request, '/api/v1/ai/chat', { message: 'Another question' }, alice)
    ).json()) as ChatAnswer
    const cursor = b64(['0000-01-01T00:00:00.000000Z', id])
    const path = `/api/v1/ai/conversations/${chat.conversation_id}/messages?cursor=${cursor}`
    await expectValidation(await local.request(path, { headers: alice.headers }), 'query.cursor')
    await expectValidation(
      await served.fetch(`/api/v1/assessments?cursor=${cursor}`, { headers: alice.headers }),
      'query.cursor',
    )
    await expectValidation(
      await served.fetch(`/api/v1/ai/conversations?cursor=${cursor}`, { headers: alice.headers }),
      'query.cursor',
    )
  })
})

describe('3.5 the query-vector cache is never shared', () => {
  test("user A's chat text is embedded again for an anonymous search and for user B; each user's repeat is cached", async () => {
    const sentence = `Our lead ${crypto.randomUUID()} quietly overrules the retro decisions`
    const times = () => embedder.timesEmbedded(sentence)
    expect((await post(local.request, '/api/v1/ai/chat', { message: sentence }, alice)).status).toBe(200)
    expect(times()).toBe(1)
    // Anonymous: a miss (no timing oracle on A's text), and never cached either.
    expect((await post(local.request, '/api/v1/rag/query', { query: sentence })).status).toBe(200)
    expect(times()).toBe(2)
    expect((await post(local.request, '/api/v1/rag/query', { query: sentence })).status).toBe(200)
    expect(times()).toBe(3)
    // Another user: a miss, then their own repeat is a hit.
    expect((await post(local.request, '/api/v1/rag/query', { query: sentence }, bob)).status).toBe(200)
    expect(times()).toBe(4)
    expect((await post(local.request, '/api/v1/rag/query', { query: sentence }, bob)).status).toBe(200)
    expect(times()).toBe(4)
    // A repeating their own text (chat or search): served from A's cache.
    expect((await post(local.request, '/api/v1/ai/chat', { message: sentence }, alice)).status).toBe(200)
    expect((await post(local.request, '/api/v1/rag/query', { query: sentence }, alice)).status).toBe(200)
    expect(times()).toBe(4)
  })
})

describe('3.6 chat history sent to Anthropic', () => {
  test('the fake refuses what Anthropic refuses: an assistant message first, or two in a row', async () => {
    const call = (messages: { role: string; content: string }[]) =>
      fetch(`${anthropic.baseURL}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': anthropic.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-test', max_tokens: 10, messages }),
      })
    for (const messages of [
      [
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'q' },
      ],
      [
        { role: 'user', content: 'q' },
        { role: 'user', content: 'q' },
      ],
      [{ role: 'user', content: '' }],
    ]) {
      const response = await call(messages)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe(
        'invalid_request_error',
      )
    }
    expect((await call([{ role: 'user', content: 'q' }])).status).toBe(200)
  })

  test('long turns: every turn succeeds, history starts with the user and alternates', async () => {
    // A long answer and a short question: cut by message, the budget (24,000 characters) would
    // end between the first question and its answer on the third turn.
    anthropic.replyText = Array.from({ length: 10 }, () => 'w'.repeat(999)).join(' ') // 9,999 characters
    const questions = ['q'.repeat(7_000), 'A short follow-up', 'And then?', 'One more', 'Last one']
    let conversationId: string | undefined
    for (const [turn, question] of questions.entries()) {
      const stream = turn === 3
      const response = await post(
        anthropicApp.request,
        '/api/v1/ai/chat',
        { message: question, stream, ...(conversationId ? { conversation_id: conversationId } : {}) },
        alice,
      )
      if (response.status !== 200)
        throw new Error(`turn ${turn + 1}: ${response.status} ${await response.text()}`)
      if (stream) {
        expect(await response.text()).toContain('event: done')
      } else {
        const body = (await response.json()) as ChatAnswer
        expect(body.provider).toBe('anthropic')
        conversationId = body.conversation_id
      }
    }
    expect(anthropic.refused).toEqual([])
    expect(anthropic.messages).toHaveLength(questions.length)
    for (const messages of anthropic.messages) {
      expect(messages[0]?.role).toBe('user')
      expect(messages.at(-1)?.role).toBe('user')
    }
    // History is kept in whole exchanges, as much as fits: the previous one at least.
    const third = anthropic.messages[2] ?? []
    expect(third.map((m): unknown => m.content)).toEqual([questions[1], anthropic.replyText, questions[2]])
    expect(anthropic.messages[1]?.map((m) => m.role)).toEqual(['user', 'assistant', 'user'])
  })
})
