import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { FakeOpenAI } from '@tests/fakes/openai'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { fakeOpenAIRouter } from '@tests/helpers/llm'
import type { AuthUser } from '@/lib/auth/types'
import type { ErrorBody } from '@/lib/errors/api-error'

const openai = new FakeOpenAI().start()
let localApp: TestApp
let fakeApp: TestApp
/** owner, b, c, e complete the round (4: enough for its spread to show); d joins but never completes. */
let people: { owner: Member; b: Member; c: Member; d: Member; e: Member }
let outsider: TestUser
let teamId: string
let roundId: string
/** A closed round with only two completions: below the minimum of three. */
let thinRoundId: string
const assessmentIds: string[] = []
/** Force keys of divsexp used below, and their display names. */
let divided: string
let weak: string
let strong: string
const names: Record<string, string> = {}

type Member = { http: TestUser; auth: AuthUser }
type TeamCoachingAnswer = {
  coaching: { summary: string; strengths: string[]; growth_areas: string[]; actions: string[] }
  sources: { id: string; title: string }[]
  provider: string
  model: string
}

const post = (app: TestApp, user: TestUser, body: unknown) =>
  app.request('/api/v1/ai/team-coaching', {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

async function member(): Promise<Member> {
  const http = await newUser()
  return { http, auth: (await localApp.services.auth.authenticate(`Bearer ${http.token}`)).user }
}

/** Participates and answers every question of a force with the given Likert value (1..5). */
async function answerRound(who: Member, round: string, likert: Record<string, number>, complete = true) {
  const { assessments, rounds } = localApp.services
  const assessment = await rounds.participate(who.auth, teamId, round)
  assessmentIds.push(assessment.id)
  for (const q of await assessments.questions(who.auth, assessment.id)) {
    const value = likert[q.force_key]
    if (value !== undefined) await assessments.answer(who.auth, assessment.id, q.id, value)
  }
  if (complete) await assessments.complete(who.auth, assessment.id)
}

// Likert → score: 1→0, 2→25, 3→50, 4→75, 5→100 (per force, the mean of its questions).
// divided: 0, 100, 75, 100 (the lowest consensus); weak: 25 for all (mean 25, consensus 1);
// strong: 100 for all (a strength). Pillar scores per person: 41.67, 75, 66.67, 75 — never sent.
const LIKERT = { owner: [1, 2, 5], b: [5, 2, 5], c: [4, 2, 5], e: [5, 2, 5] } as const
const INDIVIDUAL_PILLAR_SCORES = ['41.67', '75', '66.67']

beforeAll(async () => {
  localApp = await testApp(LOCAL_AUTH)
  fakeApp = await testApp(LOCAL_AUTH, { llm: fakeOpenAIRouter(openai) })
  const { teams, rounds, knowledge } = localApp.services
  people = {
    owner: await member(),
    b: await member(),
    c: await member(),
    d: await member(),
    e: await member(),
  }
  outsider = await newUser()
  teamId = (await teams.create(people.owner.auth, { name: 'Coached team' })).id
  const { code } = await teams.rotateCode(people.owner.auth, teamId)
  for (const m of [people.b, people.c, people.d, people.e]) await teams.join(m.auth, code)
  const forces = (await knowledge.forces('divsexp')).forces
  for (const f of forces) names[f.key] = f.name
  ;[divided, weak, strong] = forces.map((f) => f.key) as [string, string, string]
  const round = await rounds.create(people.owner.auth, teamId, {
    name: 'Q1',
    pillar_id: 'divsexp',
    mode: 'egalitarian',
  })
  roundId = round.id
  for (const key of ['owner', 'b', 'c', 'e'] as const) {
    const [x, y, z] = LIKERT[key]
    await answerRound(people[key], roundId, { [divided]: x, [weak]: y, [strong]: z })
  }
  await answerRound(people.d, roundId, { [divided]: 3 }, false)
  const thin = await rounds.create(people.owner.auth, teamId, {
    name: 'Thin',
    pillar_id: 'divsexp',
    mode: 'egalitarian',
  })
  thinRoundId = thin.id
  await answerRound(people.owner, thinRoundId, { [divided]: 3 })
  await answerRound(people.b, thinRoundId, { [divided]: 4 })
  await rounds.close(people.owner.auth, teamId, thinRoundId)
}, DB_SETUP_TIMEOUT_MS)
afterAll(() => openai.stop())
beforeEach(() => openai.reset())

describe('POST /ai/team-coaching', () => {
  test('409 while the round is open, even with four completions', async () => {
    const response = await post(localApp, people.b.http, { team_id: teamId, round_id: roundId })
    expect(response.status).toBe(409)
    expect(((await response.json()) as ErrorBody).error.code).toBe('CONFLICT')
  })

  test('409 for a closed round with fewer completions than the minimum', async () => {
    const response = await post(localApp, people.b.http, { team_id: teamId, round_id: thinRoundId })
    expect(response.status).toBe(409)
  })

  test('after close: rule-based local coaching from the aggregate, naming the least agreed force', async () => {
    await localApp.services.rounds.close(people.owner.auth, teamId, roundId)
    const response = await post(localApp, people.c.http, { team_id: teamId, round_id: roundId })
    expect(response.status).toBe(200)
    const body = (await response.json()) as TeamCoachingAnswer
    expect(body.provider).toBe('local')
    expect(body.coaching.summary).toStartWith('[local provider')
    expect(body.coaching.summary).toContain('4 members')
    expect(body.coaching.actions[0]).toStartWith(`The group disagrees most about ${names[divided]}`)
    expect(body.coaching.strengths).toEqual([`${names[strong]} (mean 100/100, sd 0, consensus 1)`])
    expect(body.coaching.growth_areas.map((g) => g.split(' (')[0])).toEqual([names[weak], names[divided]])
    expect(body.sources.length).toBeGreaterThan(0)
  })

  test('the prompt sent to a model carries aggregates only: no ids, no individual score', async () => {
    const coaching = { summary: 'A divided team.', strengths: [], growth_areas: ['x'], actions: ['Talk'] }
    openai.replyText = JSON.stringify(coaching)
    const response = await post(fakeApp, people.owner.http, { team_id: teamId, round_id: roundId })
    expect(response.status).toBe(200)
    expect((await response.json()) as TeamCoachingAnswer).toMatchObject({ provider: 'openai', coaching })
    expect(openai.chatMessages).toHaveLength(1)
    const sent = JSON.stringify(openai.chatMessages[0])
    const { results } = await localApp.services.rounds.results(people.owner.auth, teamId, roundId)
    if (!results) throw new Error('results should be visible')
    expect(sent).toContain(`mean ${results.forces[divided]?.mean}/100`)
    expect(sent).toContain(`consensus ${results.forces[divided]?.consensus}`)
    expect(sent).toContain(`Team pillar mean ${results.pillar.mean}/100, sd ${results.pillar.sd}`)
    for (const m of Object.values(people)) {
      expect(sent).not.toContain(m.http.id)
      expect(sent).not.toContain(m.http.email)
    }
    for (const id of assessmentIds) expect(sent).not.toContain(id)
    // Every member’s own pillar score stays out (with 4 completions the results carry no min
    // or max either: each would be one member's score).
    expect(results.pillar.min).toBeNull()
    expect(results.pillar.max).toBeNull()
    for (const score of INDIVIDUAL_PILLAR_SCORES) {
      expect(sent).not.toMatch(new RegExp(`(?<![\\d.])${score.replace('.', '\\.')}(?!\\.?\\d)`))
    }
    // The numbers of the aggregate prompt are all aggregate figures: n, means, sds, consensus.
    const prompt = openai.chatMessages[0]?.find((m) => m.role === 'user')?.content ?? ''
    const allowed = new Set([results.n, results.pillar.mean, results.pillar.sd, 100])
    for (const f of Object.values(results.forces))
      for (const v of [f.n, f.mean, f.sd, f.consensus]) allowed.add(v)
    for (const number of prompt.match(/\d+(\.\d+)?/g) ?? []) expect(allowed).toContain(Number(number))
  })

  test('a non-member, an unknown team or an unknown round → 404', async () => {
    const body = { team_id: teamId, round_id: roundId }
    const notMine = await post(localApp, outsider, body)
    expect(notMine.status).toBe(404)
    const unknownTeam = await post(localApp, people.b.http, { ...body, team_id: crypto.randomUUID() })
    expect(unknownTeam.status).toBe(404)
    // The same answer: a non-member cannot tell the team exists.
    const message = async (r: Response) => ((await r.json()) as ErrorBody).error.message
    expect(await message(notMine)).toBe(await message(unknownTeam))
    const unknownRound = await post(localApp, people.b.http, { ...body, round_id: crypto.randomUUID() })
    expect(unknownRound.status).toBe(404)
  })

  test('validation: a bad uuid or an extra field → 400', async () => {
    const bad = await post(localApp, people.b.http, { team_id: 'x', round_id: roundId })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as ErrorBody).error.code).toBe('VALIDATION_ERROR')
    expect((await post(localApp, people.b.http, { team_id: teamId, round_id: roundId, x: 1 })).status).toBe(
      400,
    )
  })
})
