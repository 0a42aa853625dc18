import type { MetricObjectWithValues, MetricValueWithName } from 'prom-client'

/** A prom-client histogram's values, as `histogram.get()` returns them. */
export type HistogramValues = MetricObjectWithValues<MetricValueWithName<string>>

/** Cumulative bucket counts (upper bound in seconds → count) and the total, per label group. */
export interface Buckets {
  buckets: Map<number, number>
  count: number
  /** Observations whose `status` label is 5xx (HTTP histograms only). */
  errors: number
}

/** Groups a histogram's series by `groupBy(labels)` (one group when omitted). */
export function bucketsOf(
  metric: HistogramValues | undefined,
  groupBy: (labels: Partial<Record<string, string | number>>) => string = () => '',
): Map<string, Buckets> {
  const groups = new Map<string, Buckets>()
  for (const v of metric?.values ?? []) {
    const group = groupBy(v.labels)
    const entry = groups.get(group) ?? { buckets: new Map(), count: 0, errors: 0 }
    groups.set(group, entry)
    if (v.metricName?.endsWith('_bucket')) {
      const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le)
      entry.buckets.set(le, (entry.buckets.get(le) ?? 0) + v.value)
    } else if (v.metricName?.endsWith('_count')) {
      entry.count += v.value
      if (String(v.labels.status).startsWith('5')) entry.errors += v.value
    }
  }
  return groups
}

/**
 * The q-quantile in ms from cumulative buckets, interpolated linearly within its bucket (as
 * Prometheus's histogram_quantile does), rounded to 0.01 ms. The one quantile of the codebase.
 */
export function quantileMs({ buckets, count }: Pick<Buckets, 'buckets' | 'count'>, q: number): number {
  if (count === 0) return 0
  const sorted = [...buckets].sort((a, b) => a[0] - b[0])
  const rank = q * count
  let previousBound = 0
  let previousCount = 0
  for (const [bound, cumulative] of sorted) {
    if (cumulative >= rank) {
      const upper = Number.isFinite(bound) ? bound : previousBound
      const inBucket = cumulative - previousCount
      const fraction = inBucket === 0 ? 1 : (rank - previousCount) / inBucket
      return Math.round((previousBound + (upper - previousBound) * fraction) * 1_000 * 100) / 100
    }
    previousBound = bound
    previousCount = cumulative
  }
  return Math.round(previousBound * 1_000 * 100) / 100
}
