import { beforeAll, describe, expect, test } from 'bun:test'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'

// Progress is computed in SQL; here it is computed again in TypeScript from the same rows and
// compared, over a history longer than the 10 shown, with another user's assessments beside it.

let t: TestApp

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
}, DB_SETUP_TIMEOUT_MS)

async function progress(user: TestUser) {
  const response = await t.request('/api/v1/users/me/progress', { headers: user.headers })
  expect(response.status).toBe(200)
  return (await response.json()) as {
    pillars: {
      pillar_id: string
      mode: string
      completed_count: number
      latest_score: number
      best_score: number
      last_completed_at: string
      history: { assessment_id: string; completed_at: string; score: number }[]
    }[]
    totals: Record<string, number>
  }
}

/** A completed assessment `hoursAgo` with this pillar score, written as the server would. */
async function completed(user: TestUser, pillar: string, mode: string, score: number, hoursAgo: number) {
  const [row] = await t.services.db.asService((tx) =>
    tx.query<{ id: string; completed_at: Date }>(
      `insert into public.assessment_sessions (user_id, pillar_id, mode, status, results, completed_at, created_at)
       values ($1, $2, $3, 'completed', $4::text::jsonb, now() - make_interval(hours => $5), now() - make_interval(hours => $5))
       returning id, completed_at`,
      [
        user.id,
        pillar,
        mode,
        JSON.stringify({ pillar_score: score, force_scores: {}, answered: 8, total: 8 }),
        hoursAgo,
      ],
    ),
  )
  if (!row) throw new Error('no row')
  return { assessment_id: row.id, completed_at: row.completed_at.toISOString(), score }
}

describe('GET /users/me/progress', () => {
  test('a new user: no pillars, zero totals', async () => {
    const user = await newUser()
    expect(await progress(user)).toEqual({
      pillars: [],
      totals: { completed: 0, in_progress: 0, pillars_covered: 0, modes_covered: 0 },
    })
  })

  test('per pillar and mode: count, latest, best, last 10 newest first; totals; nobody else’s rows', async () => {
    const [user, other] = [await newUser(), await newUser()]
    // Seen once, so their auth rows exist.
    await progress(user)
    await progress(other)
    const scores = [40, 72.5, 55, 90, 12, 66, 70, 71, 30, 45.25, 50, 61]
    const divsexp: Awaited<ReturnType<typeof completed>>[] = []
    for (const [i, score] of scores.entries())
      divsexp.push(await completed(user, 'divsexp', 'egalitarian', score, 100 - i))
    const status = [await completed(user, 'status', 'hierarchical', 33, 5)]
    // In progress: counted in totals only.
    await t.request('/api/v1/assessments', {
      method: 'POST',
      headers: { ...user.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ pillar_id: 'indrecip', mode: 'egalitarian' }),
    })
    // Another user's, with a higher score: must not show.
    await completed(other, 'divsexp', 'egalitarian', 99, 1)

    const expected = (mode: string, pillar: string, rows: typeof divsexp) => {
      const newestFirst = [...rows].reverse()
      const latest = newestFirst[0]
      if (!latest) throw new Error('no rows')
      return {
        pillar_id: pillar,
        mode,
        completed_count: rows.length,
        latest_score: latest.score,
        best_score: Math.max(...rows.map((r) => r.score)),
        last_completed_at: latest.completed_at,
        history: newestFirst.slice(0, 10),
      }
    }
    expect(await progress(user)).toEqual({
      pillars: [expected('egalitarian', 'divsexp', divsexp), expected('hierarchical', 'status', status)],
      totals: { completed: 13, in_progress: 1, pillars_covered: 2, modes_covered: 2 },
    })
  })

  test('a real completion through the API shows up with its scored pillar score', async () => {
    const user = await newUser()
    const post = (path: string, body?: unknown) =>
      t.request(`/api/v1${path}`, {
        method: 'POST',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      })
    const { assessment } = (await (
      await post('/assessments', { pillar_id: 'status', mode: 'hierarchical' })
    ).json()) as {
      assessment: { id: string }
    }
    const { questions } = (await (
      await t.request(`/api/v1/assessments/${assessment.id}/questions`, { headers: user.headers })
    ).json()) as { questions: { id: string }[] }
    for (const q of questions)
      await post(`/assessments/${assessment.id}/answers`, { question_id: q.id, answer: 4 })
    const done = (await (await post(`/assessments/${assessment.id}/complete`)).json()) as {
      assessment: { results: { pillar_score: number }; completed_at: string }
    }
    const { pillars } = await progress(user)
    expect(pillars).toEqual([
      {
        pillar_id: 'status',
        mode: 'hierarchical',
        completed_count: 1,
        latest_score: done.assessment.results.pillar_score,
        best_score: done.assessment.results.pillar_score,
        last_completed_at: done.assessment.completed_at,
        history: [
          {
            assessment_id: assessment.id,
            completed_at: done.assessment.completed_at,
            score: done.assessment.results.pillar_score,
          },
        ],
      },
    ])
    expect(done.assessment.results.pillar_score).toBe(75)
  })
})
