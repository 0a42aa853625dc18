/**
 * The entity tags of an If-None-Match header (RFC 9110 §13.1.2): a comma-separated list, or `*`.
 * If-None-Match compares weakly, so `W/"x"` counts as `"x"`. Anything malformed is ignored: a
 * bad header costs the client a 200, never an error.
 */
export function entityTags(header: string | undefined): string[] {
  if (!header) return []
  if (header.trim() === '*') return ['*']
  return [...header.matchAll(/(?:W\/)?("[\x21\x23-\x7e]*")/g)].map((match) => match[1] as string)
}
