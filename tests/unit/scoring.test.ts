import { describe, expect, test } from 'bun:test'
import { likertToScore, scoreAssessment } from '@/services/assessments/scoring'

const questions = [
  { id: 'p.a.1', force_key: 'a' },
  { id: 'p.a.2', force_key: 'a' },
  { id: 'p.b.1', force_key: 'b' },
  { id: 'p.b.2', force_key: 'b' },
  { id: 'p.c.1', force_key: 'c' },
  { id: 'p.c.2', force_key: 'c' },
  { id: 'p.d.1', force_key: 'd' },
  { id: 'p.d.2', force_key: 'd' },
]

describe('scoring', () => {
  test('Likert 1..5 maps linearly onto 0..100', () => {
    expect([1, 2, 3, 4, 5].map(likertToScore)).toEqual([0, 25, 50, 75, 100])
  })

  test('force = mean of its answers; pillar = mean of answered forces; unanswered forces left out', () => {
    const results = scoreAssessment(questions, { 'p.a.1': 5, 'p.a.2': 4, 'p.b.1': 1, 'p.c.1': 2, 'p.c.2': 3 })
    expect(results).toEqual({
      force_scores: { a: 87.5, b: 0, c: 37.5 },
      pillar_score: 41.67, // (87.5 + 0 + 37.5) / 3 = 41.666…
      answered: 5,
      total: 8,
    })
  })

  test('all answered', () => {
    const all = Object.fromEntries(questions.map((q) => [q.id, 3]))
    expect(scoreAssessment(questions, all)).toEqual({
      force_scores: { a: 50, b: 50, c: 50, d: 50 },
      pillar_score: 50,
      answered: 8,
      total: 8,
    })
  })

  test('answers to unknown questions or out of range are ignored; none valid → null', () => {
    expect(scoreAssessment(questions, { 'x.y.1': 5, 'p.a.1': 9, 'p.a.2': 2.5 })).toBeNull()
    expect(scoreAssessment(questions, {})).toBeNull()
    expect(scoreAssessment(questions, { 'p.d.2': 2, 'other.q.1': 5 })).toEqual({
      force_scores: { d: 25 },
      pillar_score: 25,
      answered: 1,
      total: 8,
    })
  })
})
