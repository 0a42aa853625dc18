/** What a slug looks like: lowercase kebab case, at most SLUG_MAX characters. */
export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/
export const SLUG_MAX = 120

// Letters NFKD does not take apart into a base letter and a mark.
const LETTERS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  '&': ' and ',
}

/**
 * A slug made from a title: accents stripped (é → e), a few letters spelled out (ß → ss), every
 * other run of characters that is not a-z or 0-9 made one dash, cut to SLUG_MAX at a dash.
 * Empty when nothing of the title survives (a title in a script with no Latin spelling here):
 * the caller must then send a slug.
 */
export function slugify(title: string): string {
  const latin = title
    .toLowerCase()
    .replace(/[ßæœøłđðþı&]/g, (letter) => LETTERS[letter] ?? letter)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
  const dashed = latin.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  if (dashed.length <= SLUG_MAX) return dashed
  const cut = dashed.slice(0, SLUG_MAX + 1)
  const lastDash = cut.lastIndexOf('-')
  // Cut at the last word boundary, unless that would leave almost nothing.
  return (lastDash > SLUG_MAX / 2 ? cut.slice(0, lastDash) : cut.slice(0, SLUG_MAX)).replace(/-+$/, '')
}
