// What the SPA writes against the API, typed by types generated from the live /openapi.json
// (`openapi-typescript`, see tests/integration/contract-client.test.ts, which type-checks this
// file with tests/client/tsconfig.json and runs it against a real server). A breaking change to
// the API — a renamed field, a removed route, a new required body field — fails that check.
import createClient from 'openapi-fetch'
import type { components, paths } from './generated/api'

export type Assessment = components['schemas']['Assessment']
export type Mode = Assessment['mode']
export type PillarId = Assessment['pillar_id']

export const spaClient = (baseUrl: string, token: string) =>
  createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } })

export type SpaClient = ReturnType<typeof spaClient>

/** An error answer as the one line a toast shows. */
function fail(error: { error: { code: string; message: string } } | undefined, what: string): never {
  throw new Error(`${what}: ${error ? `${error.error.code} ${error.error.message}` : 'no answer'}`)
}

/** Start an assessment, answer every question with `answer`, complete it: the scored result. */
export async function takeAssessment(client: SpaClient, pillar_id: PillarId, mode: Mode, answer: number) {
  const created = await client.POST('/api/v1/assessments', { body: { pillar_id, mode } })
  if (!created.data) fail(created.error, 'create')
  return answerAll(client, created.data.assessment.id, answer)
}

/** Answer every question of an assessment and complete it. */
export async function answerAll(client: SpaClient, id: string, answer: number) {
  const path = { id }
  const questions = await client.GET('/api/v1/assessments/{id}/questions', { params: { path } })
  if (!questions.data) fail(questions.error, 'questions')
  for (const question of questions.data.questions) {
    const answered = await client.POST('/api/v1/assessments/{id}/answers', {
      params: { path },
      body: { question_id: question.id, answer },
    })
    if (!answered.data) fail(answered.error, 'answer')
  }
  const completed = await client.POST('/api/v1/assessments/{id}/complete', { params: { path } })
  if (!completed.data) fail(completed.error, 'complete')
  const { results } = completed.data.assessment
  return { id, status: completed.data.assessment.status, pillarScore: results?.pillar_score ?? null }
}

/** A team round from the owner's side: open it, take part, close it, read the group's results. */
export async function runTeamRound(client: SpaClient, teamName: string, pillar_id: PillarId, mode: Mode) {
  const team = await client.POST('/api/v1/teams', { body: { name: teamName } })
  if (!team.data) fail(team.error, 'team')
  const teamId = team.data.team.id
  const round = await client.POST('/api/v1/teams/{id}/rounds', {
    params: { path: { id: teamId } },
    body: { name: `${teamName}: first round`, pillar_id, mode },
  })
  if (!round.data) fail(round.error, 'round')
  const path = { id: teamId, round_id: round.data.round.id }
  const mine = await client.POST('/api/v1/teams/{id}/rounds/{round_id}/participate', { params: { path } })
  if (!mine.data) fail(mine.error, 'participate')
  await answerAll(client, mine.data.assessment.id, 3)
  const closed = await client.POST('/api/v1/teams/{id}/rounds/{round_id}/close', { params: { path } })
  if (!closed.data) fail(closed.error, 'close')
  const results = await client.GET('/api/v1/teams/{id}/rounds/{round_id}/results', { params: { path } })
  if (!results.data) fail(results.error, 'results')
  const { visible, min_completed, participation } = results.data
  return {
    visible,
    minCompleted: min_completed,
    completed: participation.completed,
    results: results.data.results,
  }
}
