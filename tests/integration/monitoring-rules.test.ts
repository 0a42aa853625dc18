import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

// The rule files in docs/monitoring, checked by Prometheus's own tool (Debian package
// `prometheus`, which .ci/run installs): syntax and semantics, then the alert unit tests.
// tests/integration/monitoring-prometheus.test.ts runs them against a live scrape.
const DIR = join(import.meta.dir, '../../docs/monitoring')
const RULE_FILES = ['recording-rules.yml', 'alerting-rules.yml']
// One file per alert, so they run side by side: promtool's time per test group is mostly waiting.
const UNIT_TESTS = readdirSync(join(DIR, 'tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => `tests/${f}`)

const promtool = Bun.which('promtool')
if (!promtool && process.env.CI === 'true') {
  throw new Error('CI needs promtool (.ci/run installs the Debian package prometheus)')
}
if (!promtool)
  console.warn('monitoring-rules.test.ts skipped: promtool not installed (apt-get install prometheus)')

async function run(...args: string[]) {
  const child = Bun.spawn([promtool ?? 'promtool', ...args], { cwd: DIR, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { code, output: `${out}${err}` }
}

interface RuleGroup {
  rules: { alert?: string; record?: string; expr: string }[]
}
const groupsOf = (file: string) =>
  (Bun.YAML.parse(readFileSync(join(DIR, file), 'utf8')) as { groups: RuleGroup[] }).groups
const alertNames = groupsOf('alerting-rules.yml').flatMap((g) => g.rules.flatMap((r) => r.alert ?? []))

describe.skipIf(!promtool)('monitoring rules (promtool)', () => {
  test('promtool check rules: both files valid, 14 recording and 9 alerting rules', async () => {
    const { code, output } = await run('check', 'rules', ...RULE_FILES)
    expect(output).toContain('recording-rules.yml\n  SUCCESS: 14 rules found')
    expect(output).toContain('alerting-rules.yml\n  SUCCESS: 9 rules found')
    expect(code).toBe(0)
  })

  test('promtool test rules: every unit test file passes', async () => {
    expect(UNIT_TESTS.length).toBe(9)
    const results = await Promise.all(UNIT_TESTS.map((file) => run('test', 'rules', file)))
    const failed = results.filter((r) => r.code !== 0 || !r.output.includes('SUCCESS')).map((r) => r.output)
    expect(failed).toEqual([])
  })

  test('every alert has a unit test where it fires and one where it stays quiet', () => {
    type AlertTest = { alertname: string; exp_alerts?: unknown[] }
    const cases = UNIT_TESTS.flatMap((file) =>
      (
        Bun.YAML.parse(readFileSync(join(DIR, file), 'utf8')) as {
          tests: { alert_rule_test?: AlertTest[] }[]
        }
      ).tests.flatMap((t) => t.alert_rule_test ?? []),
    )
    const missing: string[] = []
    for (const name of alertNames) {
      const mine = cases.filter((c) => c.alertname === name)
      if (!mine.some((c) => (c.exp_alerts ?? []).length > 0)) missing.push(`${name}: no firing case`)
      if (!mine.some((c) => (c.exp_alerts ?? []).length === 0)) missing.push(`${name}: no quiet case`)
    }
    // A test for an alert that does not exist would pass quietly in promtool: no alert, as expected.
    const unknown = cases.map((c) => c.alertname).filter((n) => !alertNames.includes(n))
    expect(missing).toEqual([])
    expect(unknown).toEqual([])
    expect(alertNames.length).toBe(9)
  })
})
