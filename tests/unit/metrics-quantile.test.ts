import { expect, test } from 'bun:test'
import { Metrics } from '@/lib/metrics/metrics'

test('per-route percentiles are interpolated from the histogram buckets', async () => {
  const metrics = new Metrics({
    authCache: () => ({ hits: 0, misses: 0, size: 0, evictions: 0, negative_hits: 0, upstream_errors: 0 }),
    breakers: () => [],
  })
  // 100 requests: 50 in (0.001, 0.0025] s, 50 in (0.025, 0.05] s; one a 500.
  for (let i = 0; i < 50; i++) metrics.observeHttp('/x', 'GET', 200, 0.002)
  for (let i = 0; i < 49; i++) metrics.observeHttp('/x', 'GET', 200, 0.04)
  metrics.observeHttp('/x', 'GET', 500, 0.04)
  const [route] = await metrics.httpRoutes()
  expect(route).toMatchObject({ route: '/x', count: 100, errors: 1 })
  expect(route?.p50_ms).toBe(2.5) // the 50th request closes the (1, 2.5] ms bucket
  expect(route?.p95_ms).toBe(47.5) // 45 of the 50 in (25, 50] ms
  expect(route?.p99_ms).toBe(49.5)
})
