export interface Chunk {
  index: number
  content: string
  /** The nearest markdown heading above the chunk, if any. */
  heading?: string
}

export interface ChunkOptions {
  /** Target maximum characters per chunk. */
  maxChars?: number
  /** Characters of the previous chunk repeated at the start of the next, for context. */
  overlapChars?: number
}

interface Block {
  heading?: string
  text: string
}

/** Splits markdown/text into blocks at headings and blank lines, keeping each block's heading. */
function blocks(text: string): Block[] {
  const out: Block[] = []
  let heading: string | undefined
  let paragraph: string[] = []
  const flush = () => {
    const joined = paragraph.join('\n').trim()
    if (joined) out.push({ heading, text: joined })
    paragraph = []
  }
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const h = /^(#{1,6})\s+(.*)$/.exec(line)
    if (h) {
      flush()
      heading = h[2]?.trim() || heading
      out.push({ heading, text: line.trim() })
    } else if (line.trim() === '') {
      flush()
    } else {
      paragraph.push(line)
    }
  }
  flush()
  return out
}

/** Cuts one over-long block at sentence, then word, boundaries. */
function split(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text]
  const parts: string[] = []
  let rest = text
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars)
    const cut = Math.max(window.lastIndexOf('. '), window.lastIndexOf('\n'))
    const at =
      cut > maxChars / 2
        ? cut + 1
        : window.lastIndexOf(' ') > maxChars / 2
          ? window.lastIndexOf(' ')
          : maxChars
    parts.push(rest.slice(0, at).trim())
    rest = rest.slice(at).trim()
  }
  if (rest) parts.push(rest)
  return parts
}

/** The tail of a chunk, started at a word boundary, to repeat as overlap. */
function tail(text: string, chars: number): string {
  if (text.length <= chars) return text
  const start = text.indexOf(' ', text.length - chars)
  return start === -1 ? '' : text.slice(start + 1)
}

/**
 * Chunks a document on headings and paragraphs: blocks are packed up to `maxChars`, a new
 * heading starts a new chunk, and each chunk after the first in a section repeats the last
 * `overlapChars` of the previous one so a passage cut in two keeps its context.
 */
export function chunkText(text: string, options: ChunkOptions = {}): Chunk[] {
  const maxChars = options.maxChars ?? 1_200
  const overlap = Math.min(options.overlapChars ?? 200, Math.floor(maxChars / 3))
  const chunks: Chunk[] = []
  let current = ''
  let currentHeading: string | undefined
  const push = () => {
    const content = current.trim()
    if (content) chunks.push({ index: chunks.length, content, heading: currentHeading })
  }
  for (const block of blocks(text)) {
    const isHeading = /^#{1,6}\s/.test(block.text)
    if (isHeading && current) {
      push()
      current = ''
    }
    currentHeading = block.heading
    for (const piece of split(block.text, maxChars - overlap)) {
      if (current && current.length + piece.length + 2 > maxChars) {
        push()
        current = tail(current, overlap)
      }
      current = current ? `${current}\n\n${piece}` : piece
    }
  }
  push()
  return chunks
}
