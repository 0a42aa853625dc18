// What a README comment shows a command printing, compared with what it printed.
//
// The comment lines under a command are its output, with remarks taken off: everything after
// `←`, after ` — `, or after a gap of two or more spaces, and a trailing `(…)` in parentheses.
// What remains is read one of two ways:
// - JSON: one or more JSON values (one per line, or several on a line, or one spread over
//   continued lines), compared structurally with the values the command printed (so `jq .` and
//   `jq -c` look alike). `"…"` or a bare `…` stands for any one value; a `…` inside a string for
//   any run of characters; a bare `…` among an object's members means it may have others, and
//   among an array's items any number of items there. Otherwise keys, items and values must be
//   exactly those.
// - Lines: compared one by one, `…` inside a line for any run of characters, a line that is just
//   `…` for any number of lines.

const ANY = Symbol('any value')
const GAP = Symbol('any items')
const OPEN = Symbol('more members')

class Unparsable extends Error {}

/** A JSON reader that also takes the README's `…` (only where `ellipsis` is allowed). */
class Reader {
  #at = 0
  constructor(
    readonly text: string,
    readonly ellipsis: boolean,
  ) {}

  /** Every value in the text, one after the other. */
  values(): unknown[] {
    const values: unknown[] = []
    this.#space()
    while (this.#at < this.text.length) {
      values.push(this.#value(false))
      this.#space()
    }
    return values
  }

  #space() {
    while (/\s/.test(this.text[this.#at] ?? '')) this.#at++
  }

  #fail(what: string): never {
    throw new Unparsable(`${what} at ${this.#at}: ${this.text.slice(this.#at, this.#at + 20)}`)
  }

  #value(inArray: boolean): unknown {
    this.#space()
    const c = this.text[this.#at]
    if (c === '…' && this.ellipsis) {
      this.#at++
      return inArray ? GAP : ANY
    }
    if (c === '{') return this.#object()
    if (c === '[') return this.#array()
    if (c === '"') {
      const text = this.#string()
      return text === '…' && this.ellipsis ? ANY : text
    }
    const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(this.text.slice(this.#at))
    if (!literal) this.#fail('not a JSON value')
    this.#at += literal[0].length
    return JSON.parse(literal[0])
  }

  #string(): string {
    const match = /^"(?:[^"\\\n]|\\.)*"/.exec(this.text.slice(this.#at))
    if (!match) this.#fail('an unterminated string')
    this.#at += match[0].length
    return JSON.parse(match[0]) as string
  }

  #array(): unknown[] {
    this.#at++
    const items: unknown[] = []
    this.#space()
    if (this.text[this.#at] === ']') {
      this.#at++
      return items
    }
    for (;;) {
      items.push(this.#value(true))
      this.#space()
      const c = this.text[this.#at++]
      if (c === ']') return items
      if (c !== ',') this.#fail('expected , or ]')
    }
  }

  #object(): Record<string | symbol, unknown> {
    this.#at++
    const members: Record<string | symbol, unknown> = {}
    this.#space()
    if (this.text[this.#at] === '}') {
      this.#at++
      return members
    }
    for (;;) {
      this.#space()
      if (this.text[this.#at] === '…' && this.ellipsis) {
        this.#at++
        members[OPEN] = true
      } else {
        if (this.text[this.#at] !== '"') this.#fail('expected a key')
        const key = this.#string()
        this.#space()
        if (this.text[this.#at++] !== ':') this.#fail('expected :')
        members[key] = this.#value(false)
      }
      this.#space()
      const c = this.text[this.#at++]
      if (c === '}') return members
      if (c !== ',') this.#fail('expected , or }')
    }
  }
}

function glob(pattern: string): RegExp {
  const parts = pattern.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`)
}

/** Why `actual` does not match `expected` (at `path`), or undefined when it does. */
function differs(expected: unknown, actual: unknown, path: string): string | undefined {
  if (expected === ANY) return undefined
  if (typeof expected === 'string' && expected.includes('…')) {
    return typeof actual === 'string' && glob(expected).test(actual)
      ? undefined
      : `${path}: ${JSON.stringify(actual)} is not like ${JSON.stringify(expected)}`
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: ${JSON.stringify(actual)} is not an array`
    return items(expected, 0, actual, 0, path)
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return `${path}: ${JSON.stringify(actual)} is not an object`
    }
    const want = expected as Record<string | symbol, unknown>
    const have = actual as Record<string, unknown>
    for (const key of Object.keys(want)) {
      if (!(key in have)) return `${path}.${key}: missing`
      const why = differs(want[key], have[key], `${path}.${key}`)
      if (why) return why
    }
    const extra = Object.keys(have).filter((key) => !(key in want))
    if (extra.length > 0 && !want[OPEN]) return `${path}: unexpected ${extra.map((k) => `"${k}"`).join(', ')}`
    return undefined
  }
  return Object.is(expected, actual)
    ? undefined
    : `${path}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`
}

/** Array items from `i` and `j` on; a GAP takes any number of items (tried shortest first). */
function items(
  expected: unknown[],
  i: number,
  actual: unknown[],
  j: number,
  path: string,
): string | undefined {
  if (i === expected.length) {
    return j === actual.length ? undefined : `${path}: ${actual.length - j} more item(s) than shown`
  }
  if (expected[i] === GAP) {
    let why: string | undefined
    for (let k = j; k <= actual.length; k++) {
      why = items(expected, i + 1, actual, k, path)
      if (!why) return undefined
    }
    return why
  }
  if (j === actual.length) return `${path}[${j}]: missing`
  return differs(expected[i], actual[j], `${path}[${j}]`) ?? items(expected, i + 1, actual, j + 1, path)
}

/** A comment line without its remarks; undefined when nothing but a remark was on it. */
function withoutRemarks(line: string): string | undefined {
  if (line.trim() === '') return ''
  const shown = (line.trimStart().split(/\s*←|\s—\s|\s{2,}/)[0] ?? '')
    .replace(/\s+\([^()"]*\)$/, '')
    .replace(/^\([^()"]*\)$/, '')
    .trimEnd()
  return shown === '' ? undefined : shown
}

export interface Shown {
  kind: 'json' | 'lines'
  /** The comment lines that remain once remarks are cut. */
  lines: string[]
}

/** What a command's comment lines show, or undefined when they are remarks only. */
export function shownOutput(comment: string[]): Shown | undefined {
  const lines = comment.map(withoutRemarks).filter((l): l is string => l !== undefined)
  while (lines.at(-1) === '') lines.pop()
  if (lines.length === 0) return undefined
  try {
    new Reader(lines.join('\n'), true).values()
    return { kind: 'json', lines }
  } catch (error) {
    if (!(error instanceof Unparsable)) throw error
    return { kind: 'lines', lines }
  }
}

/** Why `output` is not what `shown` shows, or undefined when it is. */
export function outputDiffers(shown: Shown, output: string): string | undefined {
  if (shown.kind === 'json') {
    const expected = new Reader(shown.lines.join('\n'), true).values()
    let actual: unknown[]
    try {
      actual = new Reader(output, false).values()
    } catch (error) {
      return `not JSON (${(error as Error).message})`
    }
    return expected.length === 1 && actual.length === 1
      ? differs(expected[0], actual[0], '$')
      : items(expected, 0, actual, 0, 'values')
  }
  const expected = shown.lines.map((line) => (line === '…' ? GAP : line))
  // curl -i and -D print header lines with their CRLF.
  const actual = output
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
  return lineItems(expected, 0, actual, 0)
}

// A header line (`Name: value`, as curl -i and -D print them).
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):/

/**
 * `printed` with its header name spelled as in `shown`, when both are the same header: header
 * names are case-insensitive (RFC 9110), and a proxy or HTTP/2 prints them in lower case.
 */
function headerNameAs(shown: string, printed: string): string {
  const a = HEADER_LINE.exec(shown)?.[1]
  const b = HEADER_LINE.exec(printed)?.[1]
  return a && b && a !== b && a.toLowerCase() === b.toLowerCase() ? a + printed.slice(b.length) : printed
}

function lineItems(expected: unknown[], i: number, actual: string[], j: number): string | undefined {
  if (i === expected.length) {
    return j === actual.length ? undefined : `line ${j + 1}: ${JSON.stringify(actual[j])} not shown`
  }
  if (expected[i] === GAP) {
    for (let k = j; k <= actual.length; k++) if (!lineItems(expected, i + 1, actual, k)) return undefined
    return `no lines match what follows the … at line ${j + 1}`
  }
  const line = String(expected[i])
  if (j === actual.length) return `line ${j + 1}: missing ${JSON.stringify(line)}`
  const printed = headerNameAs(line, actual[j] ?? '')
  const matches = line.includes('…') ? glob(line).test(printed) : line === printed
  if (!matches) return `line ${j + 1}: ${JSON.stringify(actual[j])} instead of ${JSON.stringify(line)}`
  return lineItems(expected, i + 1, actual, j + 1)
}
