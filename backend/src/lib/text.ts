// NUL, which Postgres text and jsonb cannot hold (22021, 22P05), and a UTF-16 surrogate without
// its partner, which no UTF-8 text can encode (the drivers would silently write U+FFFD instead).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g')

/** True when the text holds a character the database cannot store as it is. */
export function hasUnstorable(text: string): boolean {
  return UNSTORABLE.test(text)
}

/** The text without NUL and lone surrogates: for what no schema checked (model answers, files). */
export function storable(text: string): string {
  return hasUnstorable(text) ? text.replace(UNSTORABLE_ALL, '') : text
}

/** `storable` applied to every string inside a JSON-like value (model-written JSON, metadata). */
export function storableDeep<T>(value: T): T {
  if (typeof value === 'string') return storable(value) as T
  if (Array.isArray(value)) return value.map(storableDeep) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [storable(key), storableDeep(inner)]),
    ) as T
  }
  return value
}

/**
 * True when every string in a JSON value (object keys too) can be stored in jsonb and it nests
 * at most `maxDepth` levels — user-supplied JSON (preferences, sign-up `data`) is checked with it.
 */
export function storableJson(value: unknown, maxDepth: number, depth = 0): boolean {
  if (depth > maxDepth) return false
  if (typeof value === 'string') return !hasUnstorable(value)
  if (Array.isArray(value)) return value.every((item) => storableJson(item, maxDepth, depth + 1))
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(
      ([key, item]) => !hasUnstorable(key) && storableJson(item, maxDepth, depth + 1),
    )
  }
  return true
}
