import { beforeAll, describe, expect, test } from 'bun:test'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { ErrorBody } from '@/lib/errors/api-error'
import type { Assessment } from '@/services/assessments/service'

let t: TestApp
let alice: TestUser
let bob: TestUser

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  alice = await newUser()
  bob = await newUser()
}, DB_SETUP_TIMEOUT_MS)

function call(user: TestUser | undefined, method: string, path: string, body?: unknown) {
  return t.request(`/api/v1/assessments${path}`, {
    method,
    headers: {
      ...(user?.headers ?? {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
}

async function create(user: TestUser, pillar_id = 'divsexp', mode = 'egalitarian'): Promise<Assessment> {
  const response = await call(user, 'POST', '', { pillar_id, mode })
  expect(response.status).toBe(201)
  return ((await response.json()) as { assessment: Assessment }).assessment
}

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  const body = (await response.json()) as ErrorBody
  expect(body.error.code).toBe(code as ErrorBody['error']['code'])
  return body
}

describe('lifecycle', () => {
  test('create → questions → answers → complete, with exact scores', async () => {
    const created = await create(alice)
    expect(created).toMatchObject({
      user_id: alice.id,
      pillar_id: 'divsexp',
      mode: 'egalitarian',
      status: 'in_progress',
      responses: {},
      answered_count: 0,
      total_questions: 8,
      results: null,
      completed_at: null,
    })

    const questions = (await (await call(alice, 'GET', `/${created.id}/questions`)).json()) as {
      questions: { id: string; force_key: string; scale: { min: number; max: number } }[]
    }
    expect(questions.questions).toHaveLength(8)
    expect(questions.questions[0]).toMatchObject({
      id: 'divsexp.psychological_safety.1',
      scale: { min: 1, max: 5 },
    })

    // psychological_safety: 5, 4 → mean 4.5 → 87.5; challenge_welcome: 1 → 0;
    // growth_mindset: 2, then re-answered 3 → 50; constructive_dissent unanswered.
    const answers: [string, number][] = [
      ['divsexp.psychological_safety.1', 5],
      ['divsexp.psychological_safety.2', 4],
      ['divsexp.challenge_welcome.1', 1],
      ['divsexp.growth_mindset.1', 2],
      ['divsexp.growth_mindset.1', 3],
    ]
    const counts: number[] = []
    for (const [question_id, answer] of answers) {
      const response = await call(alice, 'POST', `/${created.id}/answers`, { question_id, answer })
      expect(response.status).toBe(200)
      const body = (await response.json()) as {
        answered_count: number
        total_questions: number
        assessment_id: string
      }
      expect(body).toMatchObject({ assessment_id: created.id, question_id, total_questions: 8 })
      counts.push(body.answered_count)
    }
    expect(counts).toEqual([1, 2, 3, 4, 4]) // re-answering replaces

    const completed = await call(alice, 'POST', `/${created.id}/complete`)
    expect(completed.status).toBe(200)
    const { assessment } = (await completed.json()) as { assessment: Assessment }
    expect(assessment.status).toBe('completed')
    expect(assessment.results).toEqual({
      force_scores: { psychological_safety: 87.5, challenge_welcome: 0, growth_mindset: 50 },
      pillar_score: 45.83, // (87.5 + 0 + 50) / 3
      answered: 4,
      total: 8,
    })
    expect(assessment.responses['divsexp.growth_mindset.1']?.answer).toBe(3)
    expect(assessment.completed_at).not.toBeNull()

    const fetched = (await (await call(alice, 'GET', `/${created.id}`)).json()) as { assessment: Assessment }
    expect(fetched.assessment).toEqual(assessment)
  })

  test('answering or completing a completed assessment → 409, nothing changes', async () => {
    const a = await create(alice)
    await call(alice, 'POST', `/${a.id}/answers`, { question_id: 'divsexp.challenge_welcome.2', answer: 4 })
    expect((await call(alice, 'POST', `/${a.id}/complete`)).status).toBe(200)
    const before = await (await call(alice, 'GET', `/${a.id}`)).text()
    await expectError(
      await call(alice, 'POST', `/${a.id}/answers`, {
        question_id: 'divsexp.challenge_welcome.2',
        answer: 1,
      }),
      409,
      'CONFLICT',
    )
    await expectError(await call(alice, 'POST', `/${a.id}/complete`), 409, 'CONFLICT')
    expect(await (await call(alice, 'GET', `/${a.id}`)).text()).toBe(before)
  })

  test('completing with no answers → 409', async () => {
    const a = await create(alice)
    await expectError(await call(alice, 'POST', `/${a.id}/complete`), 409, 'CONFLICT')
  })

  test('list: own only, newest first, cursor pages, status filter', async () => {
    const carol = await newUser()
    const made: Assessment[] = []
    for (const pillar of ['normexp', 'dirrecip', 'status', 'ownprosp', 'incresp']) {
      made.push(await create(carol, pillar, 'hierarchical'))
    }
    await call(carol, 'POST', `/${made[0]?.id}/answers`, {
      question_id: 'normexp.norm_enforcement.1',
      answer: 2,
    })
    await call(carol, 'POST', `/${made[0]?.id}/complete`)
    await create(bob) // someone else's

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = (await (
        await call(carol, 'GET', `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as {
        data: Assessment[]
        next_cursor: string | null
      }
      expect(page.data.length).toBeLessThanOrEqual(2)
      seen.push(...page.data.map((a) => a.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual(made.map((a) => a.id).reverse())

    const done = (await (await call(carol, 'GET', '?status=completed')).json()) as { data: Assessment[] }
    expect(done.data.map((a) => a.id)).toEqual([made[0]?.id ?? ''])
    const open = (await (await call(carol, 'GET', '?status=in_progress&limit=100')).json()) as {
      data: Assessment[]
    }
    expect(open.data).toHaveLength(4)
  })

  test('an empty body with a JSON content type is no body (complete, logout)', async () => {
    const a = await create(alice)
    await call(alice, 'POST', `/${a.id}/answers`, { question_id: 'divsexp.growth_mindset.2', answer: 4 })
    const completed = await t.request(`/api/v1/assessments/${a.id}/complete`, {
      method: 'POST',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      body: '',
    })
    expect(completed.status).toBe(200)
    const carol = await newUser()
    const logout = await t.request('/api/v1/auth/logout', {
      method: 'POST',
      headers: { ...carol.headers, 'content-type': 'application/json' },
      body: '',
    })
    expect(logout.status).toBe(204)
  })

  test('delete → 204, then 404', async () => {
    const a = await create(alice)
    expect((await call(alice, 'DELETE', `/${a.id}`)).status).toBe(204)
    await expectError(await call(alice, 'GET', `/${a.id}`), 404, 'NOT_FOUND')
    await expectError(await call(alice, 'DELETE', `/${a.id}`), 404, 'NOT_FOUND')
  })

  test('no token → 401 on every route', async () => {
    const id = crypto.randomUUID()
    for (const [method, path] of [
      ['POST', ''],
      ['GET', ''],
      ['GET', `/${id}`],
      ['GET', `/${id}/questions`],
      ['POST', `/${id}/answers`],
      ['POST', `/${id}/complete`],
      ['DELETE', `/${id}`],
    ] as const) {
      await expectError(await call(undefined, method, path), 401, 'UNAUTHORIZED')
    }
  })
})

describe('validation (400, never 500, nothing changes)', () => {
  test('create: unknown pillar, pillar/mode mismatch, missing or extra fields', async () => {
    for (const body of [
      { pillar_id: 'nope', mode: 'egalitarian' },
      { pillar_id: 'divsexp', mode: 'feudal' },
      { pillar_id: 'status', mode: 'egalitarian' },
      { pillar_id: 'divsexp', mode: 'hierarchical' },
      { pillar_id: 'divsexp' },
      { pillar_id: 'divsexp', mode: 'egalitarian', user_id: bob.id },
      [],
      'null',
    ]) {
      await expectError(await call(alice, 'POST', '', body), 400, 'VALIDATION_ERROR')
    }
    const mismatch = await expectError(
      await call(alice, 'POST', '', { pillar_id: 'status', mode: 'egalitarian' }),
      400,
      'VALIDATION_ERROR',
    )
    expect(mismatch.error.details).toEqual([
      { field: 'body.pillar_id', message: 'Not a pillar of the egalitarian mode' },
    ])
  })

  test('answers: 0, 6, "3", 2.5, null, missing, unknown question, other pillar, non-UUID id', async () => {
    const a = await create(alice)
    const bad: unknown[] = [
      { question_id: 'divsexp.growth_mindset.1', answer: 0 },
      { question_id: 'divsexp.growth_mindset.1', answer: 6 },
      { question_id: 'divsexp.growth_mindset.1', answer: '3' },
      { question_id: 'divsexp.growth_mindset.1', answer: 2.5 },
      { question_id: 'divsexp.growth_mindset.1', answer: null },
      { question_id: 'divsexp.growth_mindset.1' },
      { question_id: 'divsexp.growth_mindset.99', answer: 3 },
      { question_id: 'status.formal_authority.1', answer: 3 },
      { question_id: '', answer: 3 },
      { question_id: 'divsexp.growth_mindset.1', answer: 3, extra: true },
      { question_id: 'divsexp.growth_mindset.1\u0000', answer: 3 },
      { question_id: 'DIVSEXP.growth_mindset.1', answer: 3 },
    ]
    for (const body of bad) {
      await expectError(await call(alice, 'POST', `/${a.id}/answers`, body), 400, 'VALIDATION_ERROR')
    }
    await expectError(
      await call(alice, 'POST', '/not-a-uuid/answers', {
        question_id: 'divsexp.growth_mindset.1',
        answer: 3,
      }),
      400,
      'VALIDATION_ERROR',
    )
    await expectError(await call(alice, 'POST', `/${a.id}/answers`, '{"answer": '), 400, 'INVALID_JSON')
    const after = (await (await call(alice, 'GET', `/${a.id}`)).json()) as { assessment: Assessment }
    expect(after.assessment.responses).toEqual({})
  })

  test('non-UUID ids and bad list queries → 400 on every route', async () => {
    for (const [method, path] of [
      ['GET', '/123'],
      ['GET', '/123/questions'],
      ['POST', '/123/complete'],
      ['DELETE', '/123'],
      ['GET', '?limit=0'],
      ['GET', '?limit=101'],
      ['GET', '?limit=abc'],
      ['GET', '?status=done'],
      ['GET', '?cursor=garbage'],
      ['GET', `?cursor=${Buffer.from('["2026-01-01", "x"]').toString('base64url')}`],
      // The right shape, an impossible time: must not reach the database.
      [
        'GET',
        `?cursor=${Buffer.from(`["2024-02-30T25:61:00.000000Z","${crypto.randomUUID()}"]`).toString('base64url')}`,
      ],
    ] as const) {
      await expectError(await call(alice, method, path), 400, 'VALIDATION_ERROR')
    }
  })
})

describe("someone else's assessment (BOLA)", () => {
  test('user B gets the same 404 as for a missing one on every route, and A’s data is unchanged', async () => {
    const a = await create(alice)
    await call(alice, 'POST', `/${a.id}/answers`, {
      question_id: 'divsexp.psychological_safety.2',
      answer: 2,
    })
    const before = await (await call(alice, 'GET', `/${a.id}`)).text()
    const missing = crypto.randomUUID()

    const routes = (id: string) =>
      [
        ['GET', `/${id}`, undefined],
        ['GET', `/${id}/questions`, undefined],
        ['POST', `/${id}/answers`, { question_id: 'divsexp.psychological_safety.2', answer: 5 }],
        ['POST', `/${id}/answers`, { question_id: 'divsexp.nothing.1', answer: 5 }],
        ['POST', `/${id}/complete`, undefined],
        ['DELETE', `/${id}`, undefined],
      ] as const
    const theirs = routes(a.id)
    const nobody = routes(missing)
    for (let i = 0; i < theirs.length; i++) {
      const [method, path, body] = theirs[i] ?? ['GET', '', undefined]
      const forBob = await expectError(await call(bob, method, path, body), 404, 'NOT_FOUND')
      const [m2, p2, b2] = nobody[i] ?? ['GET', '', undefined]
      const forMissing = await expectError(await call(bob, m2, p2, b2), 404, 'NOT_FOUND')
      expect(forBob.error.message).toBe(forMissing.error.message)
    }
    const list = (await (await call(bob, 'GET', '?limit=100')).json()) as { data: Assessment[] }
    expect(list.data.map((x) => x.id)).not.toContain(a.id)

    expect(await (await call(alice, 'GET', `/${a.id}`)).text()).toBe(before)
  })
})
