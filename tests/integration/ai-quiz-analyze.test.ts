import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'

const openai = new FakeOpenAI().start()
let localApp: TestApp
let fakeApp: TestApp
let user: TestUser

type Quiz = {
  questions: { id: string; question: string; options: string[]; correct_index: number; force_key: string }[]
}

const post = (app: TestApp, path: string, body: unknown) =>
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
  user = await newUser()
}, DB_SETUP_TIMEOUT_MS)
afterAll(() => openai.stop())
beforeEach(() => openai.reset())

describe('POST /ai/quiz-questions', () => {
  test('local: questions generated from the framework, each answer correct by construction', async () => {
    const response = await post(localApp, '/api/v1/ai/quiz-questions', {
      pillar_id: 'indrecip',
      mode: 'egalitarian',
      count: 6,
    })
    expect(response.status).toBe(200)
    const { questions } = (await response.json()) as Quiz
    expect(questions).toHaveLength(6)
    for (const q of questions) {
      expect(q.correct_index).toBeGreaterThanOrEqual(0)
      expect(q.correct_index).toBeLessThan(q.options.length)
    }
    expect(questions[0]?.options[questions[0].correct_index]).toBe('Unconditional Helping')
    expect(new Set(questions.map((q) => q.correct_index)).size).toBeGreaterThan(1) // not always the same slot
  })

  test('a model’s quiz is returned only when every question validates', async () => {
    const good = {
      questions: [
        {
          question: 'Which force describes passing help on to others?',
          options: ['Resource Fluidity', 'Pay-it-Forward Culture', 'Reciprocity Trust'],
          correct_index: 1,
          force_key: 'pay_it_forward_culture',
          difficulty: 'easy',
        },
      ],
    }
    openai.replyText = JSON.stringify(good)
    const ok = (await (
      await post(fakeApp, '/api/v1/ai/quiz-questions', {
        pillar_id: 'indrecip',
        mode: 'egalitarian',
        count: 1,
      })
    ).json()) as Quiz
    expect(ok.questions[0]).toMatchObject(good.questions[0] ?? {})

    for (const bad of [
      '{"questions": [{"question": "truncated',
      JSON.stringify({ questions: [{ ...good.questions[0], correct_index: 7 }] }),
      JSON.stringify({ questions: [{ ...good.questions[0], force_key: 'made_up_force' }] }),
      JSON.stringify({ questions: [{ ...good.questions[0], options: ['A', 'A'] }] }),
    ]) {
      openai.replyText = bad
      openai.chatRequests = []
      const response = await post(fakeApp, '/api/v1/ai/quiz-questions', {
        pillar_id: 'indrecip',
        mode: 'egalitarian',
        count: 1,
      })
      expect(response.status).toBe(502)
      expect(openai.chatRequests).toHaveLength(2) // retried once, then refused
    }
  })

  test('count outside 1..20 or a pillar of the other mode → 400', async () => {
    for (const body of [
      { pillar_id: 'indrecip', mode: 'egalitarian', count: 0 },
      { pillar_id: 'indrecip', mode: 'egalitarian', count: 21 },
      { pillar_id: 'indrecip', mode: 'hierarchical' },
      { pillar_id: 'indrecip', mode: 'egalitarian', difficulty: 'impossible' },
    ]) {
      expect((await post(localApp, '/api/v1/ai/quiz-questions', body)).status).toBe(400)
    }
  })
})

describe('POST /ai/analyze-content', () => {
  test('ranks every pillar and picks the closest', async () => {
    const response = await post(localApp, '/api/v1/ai/analyze-content', {
      content:
        'Our managers decide everything by rank; whoever controls the budget and the tools holds the power.',
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      alignment: { pillar_id: string; score: number }[]
      primary_pillar: string
    }
    expect(body.alignment).toHaveLength(10)
    expect(body.primary_pillar).toBe('status')
    const scores = body.alignment.map((a) => a.score)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(0)
  })

  test('empty or over-long content → 400', async () => {
    expect((await post(localApp, '/api/v1/ai/analyze-content', { content: ' ' })).status).toBe(400)
    expect((await post(localApp, '/api/v1/ai/analyze-content', { content: 'x'.repeat(20_001) })).status).toBe(
      400,
    )
  })
})
