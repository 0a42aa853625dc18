import { afterAll, beforeAll, expect, test } from 'bun:test'
import { FakeLangSmith } from '@tests/fakes/langsmith'
import { FakeOpenAI } from '@tests/fakes/openai'
import { testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import type { LlmRouter } from '@/lib/llm/router'
import { LangSmithTracer } from '@/lib/llm/tracing'
import { createLogger, hashUserId } from '@/lib/log'

const openai = new FakeOpenAI().start()
const langsmith = new FakeLangSmith().start()
let user: TestUser

beforeAll(async () => {
  user = await newUser()
}, DB_SETUP_TIMEOUT_MS)
afterAll(async () => {
  await openai.stop()
  await langsmith.stop()
})

function routerTracingTo(apiUrl: string) {
  return fakeOpenAIRouter(openai, {
    models: ['gpt-primary', 'gpt-fallback'],
    tracer: new LangSmithTracer(
      { apiUrl, apiKey: 'ls-test-key', project: 'pilar-tests' },
      createLogger('silent'),
    ),
  })
}

const chat = async (router: LlmRouter) => {
  const app = await testApp(LOCAL_AUTH, { llm: router })
  return app.request('/api/v1/ai/chat', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'How do we keep promises?' }),
  })
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
