import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database } from '@/lib/db/database'
import { requireAuth } from '@/lib/http/auth'
import type { Assessment } from '@/services/assessments/service'

// 200 different answers need 200 questions in one pillar: this file adds probe questions to
// the bank (removed afterwards) before the app loads it.
const N = 200
const probe = (n: number) => `grpprosp.concurrency_probe.${n}`
const answerFor = (n: number) => (n % 5) + 1

let db: Database
let t: TestApp
let user: TestUser

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
  await db.transaction(async (tx) => {
    for (let n = 1; n <= N; n++) {
      await tx.query(
        `insert into public.assessment_questions (id, pillar_id, mode, force_key, force_name, position, text)
         values ($1, 'grpprosp', 'egalitarian', 'concurrency_probe', 'Concurrency Probe', $2, $3)`,
        [probe(n), 10_000 + n, `Probe statement number ${n} for the concurrency test.`],
      )
    }
  })
  t = await testApp(LOCAL_AUTH)
  user = await newUser()

  // The approach of the system this replaces, kept only here to prove the test can fail:
  // read the responses, merge in application code, write the whole object back.
  t.app.post('/api/v1/test/naive-answers/:id', requireAuth(), async (c) => {
    const me = c.get('user')
    const id = c.req.param('id')
    const { question_id, answer } = await c.req.json<{ question_id: string; answer: number }>()
    const [row] = await db.asUser(me.claims, (tx) =>
      tx.query<{ responses: Record<string, unknown> }>(
        'select responses from public.assessment_sessions where id = $1 and user_id = $2',
        [id, me.id],
      ),
    )
    const merged = { ...row?.responses, [question_id]: { answer, answered_at: new Date().toISOString() } }
    await db.asService((tx) =>
      tx.query(
        'update public.assessment_sessions set responses = $3::text::jsonb where id = $1 and user_id = $2',
        [id, me.id, JSON.stringify(merged)],
      ),
    )
    return c.json({ ok: true })
  })
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await db.transaction((tx) =>
    tx.query(`delete from public.assessment_questions where force_key = 'concurrency_probe'`),
  )
})

async function newAssessment(): Promise<string> {
  const response = await t.request('/api/v1/assessments', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ pillar_id: 'grpprosp', mode: 'egalitarian' }),
  })
  return ((await response.json()) as { assessment: Assessment }).assessment.id
}

function fireAll(path: (id: string) => string, id: string) {
  return Promise.all(
    Array.from({ length: N }, (_, i) =>
      t.request(path(id), {
        method: 'POST',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ question_id: probe(i + 1), answer: answerFor(i + 1) }),
      }),
    ),
  )
}

async function stored(id: string) {
  const response = await t.request(`/api/v1/assessments/${id}`, { headers: user.headers })
  return ((await response.json()) as { assessment: Assessment }).assessment
}

describe(`${N} different answers sent concurrently to one assessment`, () => {
  test('through the atomic function: every answer is stored, each write saw the one before it', async () => {
    const id = await newAssessment()
    const responses = await fireAll((x) => `/api/v1/assessments/${x}/answers`, id)
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200))
    const counts = await Promise.all(
      responses.map(async (r) => ((await r.json()) as { answered_count: number }).answered_count),
    )
    // Serialized by the database: the counts are exactly 1..N, each once.
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1))
    const assessment = await stored(id)
    expect(assessment.answered_count).toBe(N)
    for (let n = 1; n <= N; n++) expect(assessment.responses[probe(n)]?.answer).toBe(answerFor(n))
  })

  test('through a naive read-merge-write: answers are lost (the test above would catch it)', async () => {
    const id = await newAssessment()
    const responses = await fireAll((x) => `/api/v1/test/naive-answers/${x}`, id)
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200)) // every request "succeeded"…
    const kept = (await stored(id)).answered_count
    console.log(`naive read-merge-write kept ${kept} of ${N} answers`)
    expect(kept).toBeLessThan(N) // …yet answers vanished
  })
})
