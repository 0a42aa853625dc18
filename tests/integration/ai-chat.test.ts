import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { Database } from '@/lib/db/database'
import type { ErrorBody } from '@/lib/errors/api-error'

const openai = new FakeOpenAI().start()
let fakeApp: TestApp // OpenAI fake as the only provider
let localApp: TestApp // the default: local provider, no keys
let db: Database
let alice: TestUser
let bob: TestUser
let admin: TestUser

beforeAll(async () => {
  fakeApp = await testApp(LOCAL_AUTH, { llm: fakeOpenAIRouter(openai) })
  localApp = await testApp(LOCAL_AUTH)
  ;({ db } = await sharedDatabase())
  alice = await newUser()
  bob = await newUser()
  admin = await newUser({ admin: true })
}, DB_SETUP_TIMEOUT_MS)
afterAll(() => openai.stop())
beforeEach(() => openai.reset())

const chat = (
  app: TestApp,
  user: TestUser,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) =>
  app.request('/api/v1/ai/chat', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  })

async function sseEvents(response: Response): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (event) => events.push(event) })
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  for (;;) {
    const { done, value } = (await reader?.read()) ?? { done: true, value: undefined }
    if (done) break
    parser.feed(decoder.decode(value, { stream: true }))
  }
  return events
}

describe('POST /ai/chat', () => {
  test('with no keys the local provider answers, says so, and the exchange is stored', async () => {
    const response = await chat(localApp, alice, { message: 'How do we build psychological safety?' })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      conversation_id: string
      message: { role: string; content: string }
      provider: string
      model: string
    }
    expect(body).toMatchObject({ provider: 'local', message: { role: 'assistant' } })
    expect(body.message.content).toStartWith('[local provider')
    expect(body.message.content.toLowerCase()).toContain('psychological safety')
    const messages = (await (
      await localApp.request(`/api/v1/ai/conversations/${body.conversation_id}/messages`, {
        headers: alice.headers,
      })
    ).json()) as { data: { role: string }[] }
    expect(messages.data.map((m) => m.role)).toEqual(['user', 'assistant'])
  })

  test('a follow-up sends the history to the model', async () => {
    openai.replyText = 'Keep small promises.'
    const first = (await (await chat(fakeApp, alice, { message: 'First question about trust' })).json()) as {
      conversation_id: string
    }
    await chat(fakeApp, alice, { message: 'Second question', conversation_id: first.conversation_id })
    const second = openai.chatMessages[1] ?? []
    expect(second.slice(1)).toEqual([
      { role: 'user', content: 'First question about trust' },
      { role: 'assistant', content: 'Keep small promises.' },
      { role: 'user', content: 'Second question' },
    ])
    expect(second[0]?.role).toBe('system')
  })

  test('SSE: meta, then deltas equal to the model’s text, then exactly one done', async () => {
    openai.replyText = 'Trust grows when people keep small promises.'
    const response = await chat(fakeApp, alice, { message: 'trust?', stream: true })
    expect(response.headers.get('content-type')).toStartWith('text/event-stream')
    const events = await sseEvents(response)
    expect(events[0]?.event).toBe('meta')
    expect(JSON.parse(events[0]?.data ?? '{}')).toMatchObject({ provider: 'openai', model: 'gpt-test' })
    expect(events.at(-1)?.event).toBe('done')
    expect(events.filter((e) => e.event === 'done')).toHaveLength(1)
    const middle = events.slice(1, -1)
    expect(middle.every((e) => e.event === 'delta')).toBe(true)
    expect(middle.map((e) => JSON.parse(e.data).text).join('')).toBe(openai.replyText)
  })

  test('NDJSON: the same events, one JSON object per line', async () => {
    openai.replyText = 'One two three.'
    const response = await chat(fakeApp, alice, { message: 'count' }, { accept: 'application/x-ndjson' })
    expect(response.headers.get('content-type')).toStartWith('application/x-ndjson')
    const lines = (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; text?: string })
    expect(lines[0]?.type).toBe('meta')
    expect(lines.at(-1)?.type).toBe('done')
    expect(
      lines
        .filter((l) => l.type === 'delta')
        .map((l) => l.text)
        .join(''),
    ).toBe('One two three.')
  })

  test('upstream drops mid-stream → one error event ends the stream, and nothing is stored', async () => {
    openai.replyText = 'a b c d e f g h'
    openai.dropAfterDeltas = 3
    const response = await chat(fakeApp, bob, { message: 'drop please', stream: true })
    const events = await sseEvents(response)
    expect(events[0]?.event).toBe('meta')
    expect(events.at(-1)?.event).toBe('error')
    expect(JSON.parse(events.at(-1)?.data ?? '{}')).toMatchObject({ code: 'UPSTREAM_ERROR' })
    expect(events.some((e) => e.event === 'done')).toBe(false)
    const conversationId = JSON.parse(events[0]?.data ?? '{}').conversation_id
    expect(
      (await fakeApp.request(`/api/v1/ai/conversations/${conversationId}/messages`, { headers: bob.headers }))
        .status,
    ).toBe(404)
  })

  test('the client leaving aborts the upstream request within a second', async () => {
    openai.replyText = Array.from({ length: 2_000 }, (_, i) => `w${i}`).join(' ')
    const controller = new AbortController()
    const response = await chat(fakeApp, alice, { message: 'long', stream: true }, {}, controller.signal)
    const reader = response.body?.getReader()
    await reader?.read()
    controller.abort()
    await reader?.cancel().catch(() => {})
    const deadline = Date.now() + 1_000
    while (openai.abortedChats === 0 && Date.now() < deadline) await Bun.sleep(20)
    expect(openai.abortedChats).toBe(1)
  })

  test('a JSON chat whose client leaves: upstream aborted, logged as a disconnect (499), not as an error', async () => {
    openai.hangMs = 5_000
    const controller = new AbortController()
    const pending = chat(fakeApp, alice, { message: 'never mind' }, {}, controller.signal)
    const started = Date.now()
    while (openai.chatRequests.length === 0 && Date.now() - started < 2_000) await Bun.sleep(10)
    controller.abort()
    const response = await pending
    expect(response.status).toBe(499)
    const deadline = Date.now() + 1_000
    while (openai.abortedChats === 0 && Date.now() < deadline) await Bun.sleep(20)
    expect(openai.abortedChats).toBe(1)
    expect(fakeApp.logs.some((l) => l.msg === 'unhandled error')).toBe(false)
    const line = fakeApp.logs.findLast((l) => l.msg === 'request' && l.route === '/api/v1/ai/chat')
    expect(line).toMatchObject({ status: 499, level: 'info' })
  })

  test('every provider down → 503 LLM_UNAVAILABLE with Retry-After, JSON or stream', async () => {
    openai.failWith = 503
    for (const body of [{ message: 'x' }, { message: 'x', stream: true }]) {
      const response = await chat(fakeApp, alice, body)
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(((await response.json()) as ErrorBody).error.code).toBe('LLM_UNAVAILABLE')
    }
  })

  test('the provider refusing the request → 502 UPSTREAM_ERROR without its raw message', async () => {
    openai.failWith = 400
    const response = await chat(fakeApp, alice, { message: 'x' })
    expect(response.status).toBe(502)
    const body = (await response.json()) as ErrorBody
    expect(body.error.code).toBe('UPSTREAM_ERROR')
    expect(body.error.message).not.toContain('max_tokens')
  })

  test('validation: empty, 8001 characters, unknown fields, pillar of another mode → 400', async () => {
    for (const body of [
      { message: '' },
      { message: '   ' },
      { message: 'x'.repeat(8_001) },
      { message: 'x', temperature: 2 },
      { message: 'x', pillar_id: 'status', mode: 'egalitarian' },
      { message: 'x', conversation_id: 'nope' },
    ]) {
      expect((await chat(localApp, alice, body)).status).toBe(400)
    }
  })
})

describe('conversations', () => {
  test("someone else's conversation is a 404 everywhere, and stays intact", async () => {
    const mine = (await (await chat(localApp, alice, { message: 'private thoughts on status' })).json()) as {
      conversation_id: string
    }
    const id = mine.conversation_id
    expect(
      (await localApp.request(`/api/v1/ai/conversations/${id}/messages`, { headers: bob.headers })).status,
    ).toBe(404)
    expect(
      (await localApp.request(`/api/v1/ai/conversations/${id}`, { method: 'DELETE', headers: bob.headers }))
        .status,
    ).toBe(404)
    expect((await chat(localApp, bob, { message: 'hijack', conversation_id: id })).status).toBe(404)
    const list = (await (
      await localApp.request('/api/v1/ai/conversations', { headers: bob.headers })
    ).json()) as {
      data: { id: string }[]
    }
    expect(list.data.map((c) => c.id)).not.toContain(id)
    const messages = (await (
      await localApp.request(`/api/v1/ai/conversations/${id}/messages`, { headers: alice.headers })
    ).json()) as { data: unknown[] }
    expect(messages.data).toHaveLength(2)
  })

  test('expired conversations are invisible, and the admin cleanup removes them with their messages', async () => {
    const carol = await newUser()
    const made = (await (await chat(localApp, carol, { message: 'soon forgotten' })).json()) as {
      conversation_id: string
    }
    await db.asService((tx) =>
      tx.query(`update public.conversations set expires_at = now() - interval '1 minute' where id = $1`, [
        made.conversation_id,
      ]),
    )
    expect(
      (
        await localApp.request(`/api/v1/ai/conversations/${made.conversation_id}/messages`, {
          headers: carol.headers,
        })
      ).status,
    ).toBe(404)
    const listed = (await (
      await localApp.request('/api/v1/ai/conversations', { headers: carol.headers })
    ).json()) as {
      data: unknown[]
    }
    expect(listed.data).toEqual([])
    expect(
      (await localApp.request('/api/v1/admin/cleanup-sessions', { method: 'POST', headers: carol.headers }))
        .status,
    ).toBe(403)
    const cleanup = await localApp.request('/api/v1/admin/cleanup-sessions', {
      method: 'POST',
      headers: admin.headers,
    })
    expect(((await cleanup.json()) as { deleted: number }).deleted).toBeGreaterThanOrEqual(1)
    const [left] = await db.asService((tx) =>
      tx.query<{ n: number }>(
        'select count(*)::int as n from public.conversation_messages where conversation_id = $1',
        [made.conversation_id],
      ),
    )
    expect(left?.n).toBe(0)
  })

  test('a new conversation expires CONVERSATION_TTL_DAYS after its last message', async () => {
    const made = (await (await chat(localApp, alice, { message: 'ttl check' })).json()) as {
      conversation_id: string
    }
    const list = (await (
      await localApp.request('/api/v1/ai/conversations?limit=100', { headers: alice.headers })
    ).json()) as {
      data: { id: string; updated_at: string; expires_at: string }[]
    }
    const row = list.data.find((c) => c.id === made.conversation_id)
    const days = (Date.parse(row?.expires_at ?? '') - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(6.99)
    expect(days).toBeLessThan(7.01)
  })

  test('the conversation list paginates with cursors', async () => {
    const dave = await newUser()
    const made: string[] = []
    for (let i = 0; i < 3; i++) {
      made.push(
        (
          (await (await chat(localApp, dave, { message: `topic ${i}` })).json()) as {
            conversation_id: string
          }
        ).conversation_id,
      )
    }
    const first = (await (
      await localApp.request('/api/v1/ai/conversations?limit=2', { headers: dave.headers })
    ).json()) as {
      data: { id: string }[]
      next_cursor: string
    }
    const second = (await (
      await localApp.request(`/api/v1/ai/conversations?limit=2&cursor=${first.next_cursor}`, {
        headers: dave.headers,
      })
    ).json()) as { data: { id: string }[]; next_cursor: string | null }
    expect([...first.data, ...second.data].map((c) => c.id)).toEqual([...made].reverse())
    expect(second.next_cursor).toBeNull()
  })
})

describe('chat history in SQL', () => {
  test('users cannot write history through the database API: no forged assistant messages', async () => {
    const made = (await (await chat(localApp, alice, { message: 'mine' })).json()) as {
      conversation_id: string
    }
    await expect(
      db.asUser({ sub: alice.id }, (tx) =>
        tx.query(
          `insert into public.conversation_messages (conversation_id, user_id, role, content) values ($1, $2, 'assistant', 'forged')`,
          [made.conversation_id, alice.id],
        ),
      ),
    ).rejects.toThrow('permission denied')
    await expect(
      db.asUser({ sub: alice.id }, (tx) =>
        tx.query(`update public.conversations set expires_at = now() + interval '300 days' where id = $1`, [
          made.conversation_id,
        ]),
      ),
    ).rejects.toThrow('permission denied')
  })

  test('messages of an expired conversation are not readable, even directly', async () => {
    const made = (await (await chat(localApp, bob, { message: 'ephemeral' })).json()) as {
      conversation_id: string
    }
    await db.asService((tx) =>
      tx.query(`update public.conversations set expires_at = now() - interval '1 second' where id = $1`, [
        made.conversation_id,
      ]),
    )
    const rows = await db.asUser({ sub: bob.id }, (tx) =>
      tx.query('select id from public.conversation_messages where conversation_id = $1', [
        made.conversation_id,
      ]),
    )
    expect(rows).toEqual([])
  })

  test('a conversation deleted while its answer is produced → 404, and nothing is stored', async () => {
    const made = (await (await chat(fakeApp, alice, { message: 'start' })).json()) as {
      conversation_id: string
    }
    openai.hangMs = 300
    const pending = chat(fakeApp, alice, { message: 'follow-up', conversation_id: made.conversation_id })
    await Bun.sleep(100)
    const deleted = await fakeApp.request(`/api/v1/ai/conversations/${made.conversation_id}`, {
      method: 'DELETE',
      headers: alice.headers,
    })
    expect(deleted.status).toBe(204)
    const response = await pending
    expect(response.status).toBe(404)
    expect(((await response.json()) as ErrorBody).error.code).toBe('NOT_FOUND')
  })
})

test('a quiet SSE stream gets `: ping` comment heartbeats', async () => {
  const app = await testApp({ ...LOCAL_AUTH, STREAM_HEARTBEAT_MS: '30' }, { llm: fakeOpenAIRouter(openai) })
  openai.replyText = 'slow answer with a few words'
  openai.wordDelayMs = 60 // quieter than the heartbeat interval between words
  const response = await chat(app, alice, { message: 'take your time', stream: true })
  const raw = await response.text()
  expect(raw).toContain(': ping')
  expect(raw.indexOf(': ping')).toBeGreaterThan(raw.indexOf('event: meta'))
  expect(raw.trimEnd()).toMatch(/event: done\ndata: .*$/)
})
