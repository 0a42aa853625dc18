import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeAnthropic } from '@tests/fakes/anthropic'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import type { Database } from '@/lib/db/database'
import { CompositeTracer, type LlmRunRecord, type LlmTracer } from '@/lib/llm/tracing'
import { createLogger, hashUserId } from '@/lib/log'
import { INT4_MAX, UsageRecorder, usageRow } from '@/services/usage/recorder'
import { type UsageRow, type UsageSink, UsageStore } from '@/services/usage/store'

// The real SDKs against wire-level fakes: OpenAI first (its model failing), Anthropic behind it.
const openai = new FakeOpenAI().start()
const anthropic = new FakeAnthropic().start()
const PRIMARY = 'gpt-usage-primary'
let failover: TestApp
let local: TestApp
let db: Database
let alice: TestUser

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  failover = await testApp({
    ...LOCAL_AUTH,
    LLM_PROVIDER: 'openai',
    LLM_FALLBACK_PROVIDERS: 'anthropic',
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_CHAT_MODEL: PRIMARY,
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: anthropic.baseURL,
    ANTHROPIC_CHAT_MODEL: 'claude-usage',
    EMBEDDINGS_PROVIDER: 'local',
  })
  local = await testApp(LOCAL_AUTH)
  alice = await newUser()
}, DB_SETUP_TIMEOUT_MS)
afterAll(async () => {
  await openai.stop()
  await anthropic.stop()
})
beforeEach(() => {
  openai.reset()
  anthropic.reset()
})

const chat = (app: TestApp, user: TestUser, message: string, stream = false) =>
  app.request('/api/v1/ai/chat', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ message, stream }),
  })

type Stored = UsageRow & { id: number; started_at: Date }

const rowsOf = (user: TestUser) =>
  db.asService((tx) =>
    tx.query<Stored>('select * from public.llm_usage where user_hash = $1 order by id', [
      hashUserId(user.id),
    ]),
  )

/** A sink whose writes never finish (a database that hangs), and one whose writes fail. */
class StuckSink implements UsageSink {
  calls: UsageRow[][] = []
  insert(rows: readonly UsageRow[]): Promise<void> {
    this.calls.push([...rows])
    return new Promise(() => {})
  }
}
class FailingSink implements UsageSink {
  calls = 0
  async insert(): Promise<void> {
    this.calls++
    throw new Error('connection refused')
  }
}

const run = (n: number): LlmRunRecord => ({
  context: { feature: 'test', userHash: hashUserId(`user-${n}`) },
  provider: 'local',
  model: 'local',
  breakerState: 'closed',
  attempt: 1,
  messages: [],
  output: 'x',
  usage: { input_tokens: 1, output_tokens: 1 },
  startedAt: Date.now(),
  endedAt: Date.now(),
})

describe('usage records', () => {
  test('a failover stores both attempts: the failed one (error) and the answer (failed over, tokens)', async () => {
    openai.failModel = PRIMARY
    const response = await chat(failover, alice, 'How do we keep promises?')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { provider: string }).provider).toBe('anthropic')
    await failover.services.usage.flush(5_000)
    const rows = await rowsOf(alice)
    expect(rows.map((r) => [r.provider, r.model, r.attempt, r.outcome, r.error_kind, r.failed_over])).toEqual(
      [
        ['openai', PRIMARY, 1, 'error', 'http_500', false],
        ['anthropic', 'claude-usage', 2, 'ok', null, true],
      ],
    )
    const answered = rows[1] as Stored
    expect(answered).toMatchObject({ feature: 'chat', input_tokens: 10, output_tokens: 6 })
    expect(answered.latency_ms).toBeGreaterThanOrEqual(0)
    expect(answered.started_at).toBeInstanceOf(Date)
    // The user is the logs' and traces' hash, never the id, in any column.
    expect(answered.user_hash).toBe(hashUserId(alice.id))
    expect(answered.user_hash).not.toBe(alice.id)
    const [leak] = await db.asService((tx) =>
      tx.query<{ n: number }>(`select count(*)::int as n from public.llm_usage u where u::text like $1`, [
        `%${alice.id}%`,
      ]),
    )
    expect(leak?.n).toBe(0)
  })

  test('a streamed answer is stored once it ends, with the tokens of its final event', async () => {
    const bob = await newUser()
    const response = await chat(failover, bob, 'Stream it', true)
    await response.text()
    await failover.services.usage.flush(5_000)
    const rows = await rowsOf(bob)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ provider: 'openai', model: PRIMARY, outcome: 'ok', failed_over: false })
    expect(rows[0]?.output_tokens).toBeGreaterThan(0)
    expect(rows[0]?.input_tokens).toBe(12)
  })

  test('the local provider’s calls are stored too', async () => {
    const carol = await newUser()
    expect((await chat(local, carol, 'What is psychological safety?')).status).toBe(200)
    await local.services.usage.flush(5_000)
    expect(await rowsOf(carol)).toMatchObject([{ provider: 'local', feature: 'chat', outcome: 'ok' }])
  })

  test('a database write that never finishes neither delays nor fails the answer', async () => {
    const sink = new StuckSink()
    const recorder = new UsageRecorder(sink, createLogger('silent'), {
      maxQueued: 10,
      batchSize: 1,
      flushIntervalMs: 60_000,
    })
    const app = await testApp(LOCAL_AUTH, { llm: fakeOpenAIRouter(openai, { tracer: recorder }) })
    const dave = await newUser()
    const response = await chat(app, dave, 'Still there?')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { message: { content: string } }).message.content).toBe(
      openai.replyText,
    )
    // The write had begun (and is still hanging) when the answer was complete.
    expect(sink.calls).toHaveLength(1)
    expect(sink.calls[0]?.[0]).toMatchObject({ provider: 'openai', user_hash: hashUserId(dave.id) })
    // The next answer does not wait either: its record just queues behind the stuck write.
    expect((await chat(app, dave, 'And now?')).status).toBe(200)
    expect(recorder.stats()).toMatchObject({ recorded: 2, written: 0, queued: 1, dropped: 0 })
    // Shutdown waits for it at most its timeout.
    await recorder.flush(50)
    recorder.stop()
  })

  test('a failing write loses its batch (counted, logged), never the answer', async () => {
    const sink = new FailingSink()
    const lines: string[] = []
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) })
    const recorder = new UsageRecorder(sink, logger, { maxQueued: 10, batchSize: 1, flushIntervalMs: 60_000 })
    const app = await testApp(LOCAL_AUTH, { llm: fakeOpenAIRouter(openai, { tracer: recorder }) })
    expect((await chat(app, await newUser(), 'Hello?')).status).toBe(200)
    await recorder.flush(1_000)
    recorder.stop()
    expect(sink.calls).toBe(1)
    expect(recorder.stats()).toMatchObject({ recorded: 1, written: 0, failed: 1, queued: 0 })
    expect(lines.join('')).toContain('llm usage write failed')
  })

  test('the queue is bounded: past maxQueued records are dropped and counted, and the rest written', async () => {
    const sink = new StuckSink()
    const recorder = new UsageRecorder(sink, createLogger('silent'), {
      maxQueued: 3,
      batchSize: 2,
      flushIntervalMs: 60_000,
    })
    for (let n = 0; n < 10; n++) recorder.record(run(n))
    // 3 queued, then 7 refused; none has reached the writer yet (it starts from a microtask).
    expect(recorder.stats()).toMatchObject({ recorded: 3, dropped: 7, queued: 3 })
    await Bun.sleep(0)
    // The writer took a batch of 2 and hangs on it; room for 2 more, then drops again.
    expect(sink.calls.map((b) => b.length)).toEqual([2])
    for (let n = 10; n < 15; n++) recorder.record(run(n))
    expect(recorder.stats()).toMatchObject({ recorded: 5, dropped: 10, queued: 3 })
    recorder.stop()
  })

  test('batches: one insert writes many records, in order', async () => {
    const writes: number[] = []
    const store = new UsageStore(db)
    const counting: UsageSink = {
      insert: async (rows) => {
        writes.push(rows.length)
        await store.insert(rows)
      },
    }
    const recorder = new UsageRecorder(counting, createLogger('silent'), {
      maxQueued: 1_000,
      batchSize: 250,
      flushIntervalMs: 60_000,
    })
    const feature = `batch-${crypto.randomUUID().slice(0, 8)}`
    for (let n = 0; n < 600; n++) recorder.record({ ...run(n), context: { feature, userHash: undefined } })
    await recorder.flush(5_000)
    recorder.stop()
    expect(writes).toEqual([250, 250, 100])
    const [stored] = await db.asService((tx) =>
      tx.query<{ n: number; hashed: number }>(
        'select count(*)::int as n, count(user_hash)::int as hashed from public.llm_usage where feature = $1',
        [feature],
      ),
    )
    expect(stored).toEqual({ n: 600, hashed: 0 })
  })
})

describe('one odd record never costs the others', () => {
  const featureRows = (feature: string) =>
    db.asService((tx) =>
      tx.query<{ input_tokens: number | null; latency_ms: number; attempt: number }>(
        'select input_tokens, latency_ms, attempt from public.llm_usage where feature = $1 order by id',
        [feature],
      ),
    )

  test('usageRow keeps every number inside int4: huge tokens are unknown, latency and attempt clamped', () => {
    const row = usageRow({
      ...run(1),
      attempt: Number.NaN,
      startedAt: 0,
      endedAt: 3e10,
      usage: { input_tokens: 3e9, output_tokens: INT4_MAX },
    })
    expect(row).toMatchObject({
      input_tokens: null,
      output_tokens: INT4_MAX,
      latency_ms: INT4_MAX,
      attempt: 1,
    })
    expect(usageRow({ ...run(1), startedAt: 10, endedAt: Number.NaN }).latency_ms).toBe(0)
  })

  test('a batch of 5 with input_tokens 3e9 in one of them is written whole (that count stored as null)', async () => {
    const feature = `huge-${crypto.randomUUID().slice(0, 8)}`
    const recorder = new UsageRecorder(new UsageStore(db), createLogger('silent'), {
      maxQueued: 100,
      batchSize: 10,
      flushIntervalMs: 60_000,
    })
    for (let n = 0; n < 5; n++) {
      recorder.record({
        ...run(n),
        context: { feature },
        usage: { input_tokens: n === 2 ? 3e9 : 10, output_tokens: 1 },
      })
    }
    await recorder.flush(5_000)
    recorder.stop()
    // Before the bound, the int4 column refused the 3e9 (22003) and all five were lost.
    expect(recorder.stats()).toMatchObject({ recorded: 5, written: 5, failed: 0 })
    expect((await featureRows(feature)).map((r) => r.input_tokens)).toEqual([10, 10, null, 10, 10])
  })

  test('a batch the database refuses for one row’s data is retried row by row: only that row is lost', async () => {
    const feature = `poison-${crypto.randomUUID().slice(0, 8)}`
    const store = new UsageStore(db)
    const writes: number[] = []
    // A row the bounds missed: the store gets 3e9 for the third record and Postgres refuses it.
    const poisoning: UsageSink = {
      insert: async (rows) => {
        writes.push(rows.length)
        await store.insert(rows.map((r) => (r.latency_ms === 2 ? { ...r, input_tokens: 3e9 } : r)))
      },
    }
    const lines: string[] = []
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) })
    const recorder = new UsageRecorder(poisoning, logger, {
      maxQueued: 100,
      batchSize: 10,
      flushIntervalMs: 60_000,
    })
    for (let n = 0; n < 5; n++) recorder.record({ ...run(n), context: { feature }, startedAt: 0, endedAt: n })
    await recorder.flush(5_000)
    recorder.stop()
    expect(writes).toEqual([5, 1, 1, 1, 1, 1])
    expect(recorder.stats()).toMatchObject({ recorded: 5, written: 4, failed: 1 })
    expect((await featureRows(feature)).map((r) => r.latency_ms)).toEqual([0, 1, 3, 4])
    expect(lines.join('')).toContain('"lost":1')
  })

  test('a failure that is not a row’s data (the database down) is not retried row by row', async () => {
    const sink = new FailingSink()
    const recorder = new UsageRecorder(sink, createLogger('silent'), {
      maxQueued: 100,
      batchSize: 10,
      flushIntervalMs: 60_000,
    })
    for (let n = 0; n < 5; n++) recorder.record(run(n))
    await recorder.flush(1_000)
    recorder.stop()
    expect(sink.calls).toBe(1)
    expect(recorder.stats()).toMatchObject({ written: 0, failed: 5 })
  })
})

describe('CompositeTracer', () => {
  class Counting implements LlmTracer {
    runs = 0
    record(): void {
      this.runs++
    }
    async flush(): Promise<void> {}
  }
  class Throwing implements LlmTracer {
    record(): void {
      throw new Error('tracer broke')
    }
    async flush(): Promise<void> {
      throw new Error('flush broke')
    }
  }

  test('a throwing tracer neither reaches the caller nor stops the ones after it; logged once', async () => {
    const lines: string[] = []
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) })
    const before = new Counting()
    const after = new Counting()
    const composite = new CompositeTracer([before, new Throwing(), after], logger)
    // Before the guard, the first record threw to the router and `after` never saw a run.
    expect(() => composite.record(run(1))).not.toThrow()
    composite.record(run(2))
    await composite.flush(100)
    expect([before.runs, after.runs]).toEqual([2, 2])
    expect(composite.failures()).toEqual([0, 3, 0])
    expect(lines.filter((line) => line.includes('llm tracer failed'))).toHaveLength(1)
  })
})
