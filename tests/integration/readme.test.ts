import { beforeAll, describe, expect, test } from 'bun:test'
import { readmeWalkthrough, type Statement } from '@tests/helpers/readme-walkthrough'
import { outputDiffers, shownOutput } from '@tests/helpers/shown-output'

// README.md's "API walk-through" (and every sub-section under it) as written: the blocks split
// into commands, every error status a command may get is one whose output the README shows,
// and the rules that compare shown output. It is executed once per run, in
// contract-prism.test.ts: its ```sh blocks in order, in one bash (as if pasted into a terminal),
// against a fresh server through the Prism validator, `localhost:3001` pointed at it. Any
// command that fails fails that test (set -e -o pipefail, and `curl -f` wherever an error status
// is not the point), and every output a comment shows must be what the command printed: JSON
// compared as JSON, other lines as lines, `…` where a value varies (tests/helpers/shown-output.ts).

let all: Statement[] = []
beforeAll(() => {
  all = readmeWalkthrough()
})

/** The curl calls of a command that do not fail on an error status (no -f / --fail). */
function withoutFail(code: string): string[] {
  return [...code.replaceAll('\\\n', ' ').matchAll(/\bcurl\b[^|;)&\n]*/g)]
    .map((m) => m[0].trim())
    .filter((call) => !/\s(?:-[A-Za-z]*f[A-Za-z]*|--fail(?:-with-body)?)(?=\s|$)/.test(call))
}

describe("README.md's API walk-through, as written", () => {
  test('has shell blocks to run (and the splitter keeps loops and continued lines whole)', () => {
    expect(new Set(all.map((s) => s.block)).size).toBeGreaterThanOrEqual(3)
    expect(all.length).toBeGreaterThan(40)
    expect(all.some((s) => s.code.startsWith('N=0; for WHO in') && s.code.trimEnd().endsWith('done'))).toBe(
      true,
    )
  })

  test('a curl that may get an error status is one whose output the README shows (so it is checked)', () => {
    const unchecked = all
      .filter((s) => withoutFail(s.code).length > 0 && !shownOutput(s.expected))
      .map((s) => s.code.split('\n')[0])
    expect(unchecked).toEqual([])
    // The check itself: `-s` alone is caught, `-sf`, `-sfN` and `--fail` are not.
    expect(withoutFail('curl -s -o /dev/null x | curl -sf y; curl -sfN z; curl --fail -s w')).toEqual([
      'curl -s -o /dev/null x',
    ])
  })
})

describe('comparing shown output (the rules readme.test.ts applies)', () => {
  const differs = (comment: string[], output: string) => {
    const shown = shownOutput(comment)
    if (!shown) throw new Error(`nothing shown in ${JSON.stringify(comment)}`)
    return outputDiffers(shown, output)
  }

  test("catches the outputs the README used to show wrongly (Dee's progress, the user counts)", () => {
    const progress = [
      '{"pillars":[{"pillar_id":"divsexp","mode":"egalitarian","completed_count":1,"latest_score":75,"best_score":75}],',
      ' "totals":{"completed":1,"in_progress":0,"pillars_covered":1,"modes_covered":1}}',
    ]
    const empty =
      '{"pillars":[],"totals":{"completed":0,"in_progress":0,"pillars_covered":0,"modes_covered":0}}\n'
    expect(differs(progress, empty)).toBe('$.pillars[0]: missing')
    const analytics = [
      '{"users":{"total":2,"active_1d":1,"active_7d":1,"active_30d":1},"events":{"by_type":[{"type":"page_view","count":1}]}}',
    ]
    const printed =
      '{"users":{"total":5,"active_1d":5,"active_7d":5,"active_30d":5},"events":{"by_type":[{"type":"page_view","count":1}]}}'
    expect(differs(analytics, printed)).toBe('$.users.total: 5 instead of 2')
  })

  test('JSON: compared as values, remarks cut, continued lines joined, jq . and jq -c alike', () => {
    const shown = ['{"a":1,"b":[1,2],', ' "c":"x"}   ← a remark', '(a remark on its own)']
    expect(differs(shown, '{\n  "c": "x",\n  "b": [1, 2],\n  "a": 1\n}\n')).toBeUndefined()
    expect(differs(shown, '{"a":1,"b":[1,2],"c":"x","d":0}')).toBe('$: unexpected "d"')
    expect(differs(shown, '{"a":1,"b":[1,2,3],"c":"x"}')).toBe('$.b: 1 more item(s) than shown')
    expect(differs(shown, '{"a":"1","b":[1,2],"c":"x"}')).toBe('$.a: "1" instead of 1')
    expect(differs(shown, 'Internal Server Error')).toStartWith('not JSON')
    // Several values, on one line or several.
    expect(differs(['1', 'null   (no further page)'], '1\nnull\n')).toBeUndefined()
    expect(differs(['"a" "b"'], '"a"\n"b"\n"c"\n')).toBe('values: 1 more item(s) than shown')
  })

  test('JSON: … for any value, any characters in a string, more members or items', () => {
    expect(
      differs(['{"id":"…","n":…,"at":"20…Z"}'], '{"id":{"x":1},"n":7,"at":"2026-12-01T00:00:00Z"}'),
    ).toBe(undefined)
    expect(differs(['{"at":"20…Z"}'], '{"at":"yesterday"}')).toBe('$.at: "yesterday" is not like "20…Z"')
    expect(differs(['{"a":1,…,"z":2}'], '{"a":1,"m":0,"n":0,"z":2}')).toBeUndefined()
    expect(differs(['{"a":1,…,"z":2}'], '{"a":1,"m":0}')).toBe('$.z: missing')
    expect(differs(['[1,…]'], '[1,2,3]')).toBeUndefined()
    expect(differs(['[1,…,9]'], '[1,2,3,9]')).toBeUndefined()
    expect(differs(['[1,…,9]'], '[2,3,9]')).toBe('$[0]: 2 instead of 1')
    expect(differs(['["…"]'], '[1,2]')).toBe('$: 1 more item(s) than shown')
  })

  test('lines: exact, … for any characters or (alone) any lines, CRLF ignored', () => {
    expect(differs(['HTTP/1.1 200 OK', 'ETag: "…"'], 'HTTP/1.1 200 OK\r\nETag: "abc"\r\n')).toBeUndefined()
    expect(differs(['HTTP/1.1 200 OK'], 'HTTP/1.1 404 Not Found\r\n')).toBe(
      'line 1: "HTTP/1.1 404 Not Found" instead of "HTTP/1.1 200 OK"',
    )
    expect(differs(['event: meta', '…', 'event: done'], 'event: meta\n\nevent: delta\n\nevent: done\n')).toBe(
      undefined,
    )
    expect(differs(['event: meta', '…', 'event: done'], 'event: meta\nevent: error\n')).toStartWith(
      'no lines',
    )
    expect(differs(['local', 'x'], 'local\nx\ny\n')).toBe('line 3: "y" not shown')
    // Header names in any case (a proxy prints them in lower case); values exactly.
    expect(
      differs(['Cache-Control: public, max-age=60'], 'cache-control: public, max-age=60\r\n'),
    ).toBeUndefined()
    expect(differs(['ETag: "…"'], 'etag: "abc"\r\n')).toBeUndefined()
    expect(differs(['Cache-Control: public'], 'cache-control: Public\r\n')).toBe(
      'line 1: "cache-control: Public" instead of "Cache-Control: public"',
    )
    expect(differs(['Vary: Origin'], 'Varying: Origin\r\n')).toBe(
      'line 1: "Varying: Origin" instead of "Vary: Origin"',
    )
  })
})
