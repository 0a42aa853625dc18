/**
 * Assessment scoring: pure functions, no I/O.
 * - A force's score is the mean of its answers (Likert 1..5) mapped onto 0..100: 1 → 0, 3 → 50, 5 → 100.
 * - The pillar score is the mean of the answered forces' scores (unanswered forces are left out).
 * Scores are rounded to two decimals only at the end.
 */

export interface ScoredQuestion {
  id: string
  force_key: string
}

export interface AssessmentResults {
  pillar_score: number
  force_scores: Record<string, number>
  answered: number
  total: number
}

const round2 = (value: number) => Math.round(value * 100) / 100

/** Maps a mean Likert answer (1..5) to 0..100. */
export function likertToScore(mean: number): number {
  return ((mean - 1) / 4) * 100
}

/**
 * Scores the answers to a pillar's questions. Answers to questions not in `questions`, or with
 * values outside 1..5, are ignored (the database function never stores them; this is defence
 * in depth). Returns null when no valid answer exists.
 */
export function scoreAssessment(
  questions: readonly ScoredQuestion[],
  answers: Readonly<Record<string, number>>,
): AssessmentResults | null {
  const byForce = new Map<string, number[]>()
  let answered = 0
  for (const question of questions) {
    const answer = answers[question.id]
    if (answer === undefined || !Number.isInteger(answer) || answer < 1 || answer > 5) continue
    answered++
    const list = byForce.get(question.force_key) ?? []
    list.push(answer)
    byForce.set(question.force_key, list)
  }
  if (answered === 0) return null
  const forceScores: Record<string, number> = {}
  let sum = 0
  for (const [force, values] of byForce) {
    const score = likertToScore(values.reduce((a, b) => a + b, 0) / values.length)
    forceScores[force] = round2(score)
    sum += score
  }
  return {
    pillar_score: round2(sum / byForce.size),
    force_scores: forceScores,
    answered,
    total: questions.length,
  }
}
