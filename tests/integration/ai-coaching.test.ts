import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import type { ErrorBody } from '@/lib/errors/api-error'

const openai = new FakeOpenAI().start()
let localApp: TestApp
let fakeApp: TestApp
let alice: TestUser
let bob: TestUser
let completed: string
let open: string

type CoachingAnswer = {
  coaching: { summary: string; strengths: string[]; growth_areas: string[]; actions: string[] }
  sources: { id: string; title: string }[]
  provider: string
}

const post = (app: TestApp, user: TestUser, path: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

beforeAll(async () => {
  localApp = await testApp(LOCAL_AUTH)
  fakeApp = await testApp(LOCAL_AUTH, {
    llm: fakeOpenAIRouter(openai),
  })
  alice = await newUser()
  bob = await newUser()
  const make = async () =>
    (
      (await (
        await post(localApp, alice, '/api/v1/assessments', { pillar_id: 'divsexp', mode: 'egalitarian' })
      ).json()) as {
        assessment: { id: string }
      }
    ).assessment.id
  completed = await make()
  // psychological_safety 5 → 100 (strength); challenge_welcome 1 → 0 (growth area).
  for (const [q, a] of [
    ['divsexp.psychological_safety.1', 5],
    ['divsexp.challenge_welcome.1', 1],
  ] as const) {
    await post(localApp, alice, `/api/v1/assessments/${completed}/answers`, { question_id: q, answer: a })
  }
  await post(localApp, alice, `/api/v1/assessments/${completed}/complete`, {})
  open = await make()
}, DB_SETUP_TIMEOUT_MS)
afterAll(() => openai.stop())
beforeEach(() => openai.reset())

describe('POST /ai/coaching', () => {
  test('local provider: rule-based coaching from the scores, grounded sources, and it says it is local', async () => {
    const response = await post(localApp, alice, '/api/v1/ai/coaching', { assessment_id: completed })
    expect(response.status).toBe(200)
    const body = (await response.json()) as CoachingAnswer
    expect(body.provider).toBe('local')
    expect(body.coaching.summary).toContain('[local provider')
    expect(body.coaching.strengths).toEqual(['Psychological Safety (100/100)'])
    expect(body.coaching.growth_areas).toEqual(['Challenge Welcome (0/100)'])
    expect(body.coaching.actions[0]).toContain('Challenge Welcome')
    expect(body.sources.length).toBeGreaterThan(0)
  })

  test('a model’s valid JSON is returned after validation', async () => {
    const coaching = {
      summary: 'Strong safety.',
      strengths: ['Safety'],
      growth_areas: ['Challenge'],
      actions: ['Run a pre-mortem'],
    }
    openai.replyText = `Here you go: ${JSON.stringify(coaching)}`
    const body = (await (
      await post(fakeApp, alice, '/api/v1/ai/coaching', { assessment_id: completed })
    ).json()) as CoachingAnswer
    expect(body).toMatchObject({ provider: 'openai', coaching })
  })

  test('malformed model JSON is retried once, then refused with 502 — never returned', async () => {
    openai.replyText = '{"summary": "half an object", "strengths": ['
    const response = await post(fakeApp, alice, '/api/v1/ai/coaching', { assessment_id: completed })
    expect(response.status).toBe(502)
    expect(((await response.json()) as ErrorBody).error.code).toBe('UPSTREAM_ERROR')
    expect(openai.chatRequests).toHaveLength(2)
  })

  test('an unfinished assessment → 409; someone else’s or a missing one → 404', async () => {
    expect((await post(localApp, alice, '/api/v1/ai/coaching', { assessment_id: open })).status).toBe(409)
    expect((await post(localApp, bob, '/api/v1/ai/coaching', { assessment_id: completed })).status).toBe(404)
    expect(
      (await post(localApp, alice, '/api/v1/ai/coaching', { assessment_id: crypto.randomUUID() })).status,
    ).toBe(404)
    expect((await post(localApp, alice, '/api/v1/ai/coaching', { assessment_id: 'x' })).status).toBe(400)
  })
})

describe('POST /ai/guidance', () => {
  test('grounded guidance for a pillar, with sources from that pillar', async () => {
    const response = await post(localApp, alice, '/api/v1/ai/guidance', {
      pillar_id: 'status',
      mode: 'hierarchical',
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      guidance: string
      sources: { title: string }[]
      provider: string
    }
    expect(body.provider).toBe('local')
    expect(body.guidance).toStartWith('[local provider')
    expect(body.sources.some((s) => s.title.includes('Status'))).toBe(true)
  })

  test('a pillar of the other mode → 400', async () => {
    expect(
      (await post(localApp, alice, '/api/v1/ai/guidance', { pillar_id: 'status', mode: 'egalitarian' }))
        .status,
    ).toBe(400)
  })
})
