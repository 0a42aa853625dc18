import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { FakeLangSmith } from '@tests/fakes/langsmith'
import { FakeOpenAI } from '@tests/fakes/openai'
import { testApp, testConfig } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import { createLlmRouter } from '@/lib/llm/create-router'
import { LangSmithTracer } from '@/lib/llm/langsmith-tracer'
import type { LlmRouter } from '@/lib/llm/router'
import { createLogger, hashUserId } from '@/lib/log'

const openai = new FakeOpenAI().start()
const langsmith = new FakeLangSmith().start()
let user: TestUser

beforeAll(async () => {
  user = await newUser()
  // Opened here, within the setup timeout, not inside the first test's 5 s.
  await sharedDatabase()
}, DB_SETUP_TIMEOUT_MS)
afterAll(async () => {
  await openai.stop()
  await langsmith.stop()
})

function routerTracingTo(apiUrl: string) {
  return fakeOpenAIRouter(openai, {
    models: ['gpt-primary', 'gpt-fallback'],
    tracer: new LangSmithTracer(
      { apiUrl, apiKey: 'ls-test-key', project: 'pilar-tests', redact: true },
      createLogger('silent'),
    ),
  })
}

const chat = async (router: LlmRouter, message = 'How do we keep promises?') => {
  const app = await testApp(LOCAL_AUTH, { llm: router })
  return app.request('/api/v1/ai/chat', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  })
}

/** The router the server builds from its environment, with LangSmith pointed at the fake. */
function configuredRouter(env: Record<string, string> = {}) {
  const config = testConfig({
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.baseURL,
    LANGSMITH_TRACING: 'true',
    LANGSMITH_API_KEY: 'ls-test-key',
    LANGSMITH_ENDPOINT: langsmith.url,
    ...env,
  })
  return createLlmRouter(config.llm, createLogger('silent'))
}

test('each LLM call is a LangSmith run with breaker and failover metadata and a hashed user id', async () => {
  openai.failModel = 'gpt-primary'
  const router = routerTracingTo(langsmith.url)
  expect((await chat(router)).status).toBe(200)
  await router.tracer.flush(5_000)
  expect(langsmith.runs).toHaveLength(2)
  const [failed, answered] = langsmith.runs as {
    run_type: string
    error?: string
    extra: { metadata: Record<string, unknown> }
  }[]
  expect(failed?.error).toContain('500')
  expect(failed?.extra.metadata).toMatchObject({ model: 'gpt-primary', attempt: 1, breaker_state: 'closed' })
  expect(answered?.run_type).toBe('llm')
  expect(answered?.extra.metadata).toMatchObject({
    feature: 'chat',
    provider: 'openai',
    model: 'gpt-fallback',
    attempt: 2,
    failed_over_from: 'openai',
    breaker_state: 'closed',
    user_hash: hashUserId(user.id),
  })
  expect(typeof answered?.extra.metadata.latency_ms).toBe('number')
  expect(JSON.stringify(langsmith.runs)).not.toContain(user.id)
  openai.failModel = null
})

test('LangSmith being down changes nothing for users', async () => {
  const router = routerTracingTo('http://127.0.0.1:9')
  const response = await chat(router)
  expect(response.status).toBe(200)
  expect(((await response.json()) as { message: { content: string } }).message.content).toBe(openai.replyText)
  await router.tracer.flush(2_000) // bounded, and never throws
})

/** The plain SHA-256 prefix of a text: what a third party can compute for any guess. */
const sha256Prefix = (text: string) => new Bun.CryptoHasher('sha256').update(text).digest('hex').slice(0, 16)
/** What a redacted run shows of a text under `key`: its length and an HMAC-SHA-256 prefix. */
const keyedFingerprint = (text: string, key: string) => ({
  length: text.length,
  hmac: createHmac('sha256', key).update(text).digest('hex').slice(0, 16),
})

type TracedRun = { inputs: { messages: Record<string, unknown>[] }; outputs?: Record<string, unknown> }

/** The user message's fingerprint in the one run a chat through `router` sends. */
async function tracedUserMessage(router: LlmRouter, message: string) {
  langsmith.runs = []
  expect((await chat(router, message)).status).toBe(200)
  await router.tracer.flush(5_000)
  expect(langsmith.runs).toHaveLength(1)
  const [run] = langsmith.runs as TracedRun[]
  return { run, sent: run?.inputs.messages.find((m) => m.role === 'user') }
}

test('by default (LANGSMITH_REDACT unset) runs carry lengths and keyed hashes, never the chat text', async () => {
  const message = `My scores were 87 and 12, please keep this private ${crypto.randomUUID()}`
  const { run, sent } = await tracedUserMessage(await configuredRouter(), message)
  const raw = JSON.stringify(langsmith.runs)
  expect(raw).not.toContain(message)
  expect(raw).not.toContain(openai.replyText)
  expect(sent).toEqual({
    role: 'user',
    content_length: message.length,
    content_hmac: expect.stringMatching(/^[0-9a-f]{16}$/),
  })
  for (const m of run?.inputs.messages ?? [])
    expect(Object.keys(m).sort()).toEqual(['content_hmac', 'content_length', 'role'])
  expect(run?.outputs).toMatchObject({
    text_length: openai.replyText.length,
    text_hmac: expect.stringMatching(/^[0-9a-f]{16}$/),
  })
  expect(run?.outputs).not.toHaveProperty('text')
})

test('a fingerprint is an HMAC under LANGSMITH_REDACT_KEY, not a plain SHA-256 a guess can confirm', async () => {
  const key = 'a-redaction-key-of-the-deployment'
  const score = 'I scored 87'
  const first = await tracedUserMessage(await configuredRouter({ LANGSMITH_REDACT_KEY: key }), score)
  const second = await tracedUserMessage(await configuredRouter({ LANGSMITH_REDACT_KEY: key }), score)
  const unkeyed = await tracedUserMessage(await configuredRouter(), score)
  expect(first.sent?.content_hmac).not.toBe(sha256Prefix(score))
  expect(unkeyed.sent?.content_hmac).not.toBe(sha256Prefix(score))
  expect(first.sent?.content_hmac).toBe(keyedFingerprint(score, key).hmac)
  // Two routers (instances) with the same key: equal texts match across them.
  expect(second.sent?.content_hmac).toBe(first.sent?.content_hmac)
  // Without a key, a random one of this process: not the configured key's fingerprint.
  expect(unkeyed.sent?.content_hmac).not.toBe(first.sent?.content_hmac)
  expect(first.run?.outputs?.text_hmac).toBe(keyedFingerprint(openai.replyText, key).hmac)
})

test('LANGSMITH_REDACT=false sends the messages and the answer as they are', async () => {
  langsmith.runs = []
  const message = `Send this one in full ${crypto.randomUUID()}`
  const router = await configuredRouter({ LANGSMITH_REDACT: 'false' })
  expect((await chat(router, message)).status).toBe(200)
  await router.tracer.flush(5_000)
  const [run] = langsmith.runs as TracedRun[]
  expect(run?.inputs.messages).toContainEqual({ role: 'user', content: message })
  expect(run?.outputs).toMatchObject({ text: openai.replyText })
})
