import { beforeAll, expect, test } from 'bun:test'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import { QuestionBank } from '@/services/assessments/question-bank'
import { PILLAR_IDS, PILLARS } from '@/services/pilar/framework'
import facts from '@/services/pilar/pilar-facts.json' with { type: 'json' }

let bank: QuestionBank

beforeAll(async () => {
  bank = await QuestionBank.load((await sharedDatabase()).db)
}, DB_SETUP_TIMEOUT_MS)

// The framework facts this project was given (shared/data/pilar-facts.json, copied in).
const forceKey = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')

test('the framework module matches the facts: 2 modes × 5 pillars', () => {
  const fromFacts = Object.entries(facts.modes).flatMap(([mode, pillars]) =>
    pillars.map((p) => `${p.id}:${mode}:${p.title}`),
  )
  expect(PILLAR_IDS.map((id) => `${id}:${PILLARS[id].mode}:${PILLARS[id].title}`).sort()).toEqual(
    fromFacts.sort(),
  )
})

test('every pillar has ≥ 8 questions, ≥ 2 for each of its four forces, with stable ids', () => {
  for (const [, pillars] of Object.entries(facts.modes)) {
    for (const pillar of pillars) {
      const questions = bank.forPillar(pillar.id as (typeof PILLAR_IDS)[number])
      expect(questions.length).toBeGreaterThanOrEqual(8)
      const keys = pillar.forces.map(forceKey)
      expect([...new Set(questions.map((q) => q.force_key))].sort()).toEqual([...keys].sort())
      for (const key of keys) {
        const ofForce = questions.filter((q) => q.force_key === key)
        expect(ofForce.length).toBeGreaterThanOrEqual(2)
        expect(ofForce.map((q) => q.id)).toEqual(ofForce.map((_, i) => `${pillar.id}.${key}.${i + 1}`))
      }
    }
  }
  expect(bank.get('divsexp.psychological_safety.1')?.force_name).toBe('Psychological Safety')
})

test('no two questions share a text', () => {
  const texts = PILLAR_IDS.flatMap((id) => bank.forPillar(id).map((q) => q.text))
  expect(new Set(texts).size).toBe(texts.length)
})
