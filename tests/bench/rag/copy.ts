import type { PGlite } from '@electric-sql/pglite'
import { EMBEDDING_DIMENSIONS } from '@/lib/rag/embedder'

export interface BulkChunk {
  index: number
  content: string
  values: ArrayLike<number>
}

/**
 * Writes chunks with COPY … (FORMAT binary) from a blob: on the embedded database, parsing a
 * vector's text form costs ~5 ms (1,536 decimal numbers through WASM), so a text load of 100k
 * chunks takes minutes of parsing alone; the binary form is copied as it is (float4, big-endian).
 */
export async function copyChunksBinary(
  pglite: PGlite,
  documentId: string,
  model: string,
  chunks: readonly BulkChunk[],
): Promise<void> {
  const encoder = new TextEncoder()
  const uuid = Uint8Array.from(documentId.replace(/-/g, '').match(/../g) ?? [], (h) => Number.parseInt(h, 16))
  const metadata = encoder.encode('{"kind":"document"}')
  const modelBytes = encoder.encode(model)
  const parts: Uint8Array<ArrayBuffer>[] = []
  const header = new Uint8Array(19)
  header.set([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]) // PGCOPY\n\377\r\n\0, flags 0, no extension
  parts.push(header)
  for (const chunk of chunks) {
    const content = encoder.encode(chunk.content)
    const vectorBytes = 4 + 4 * EMBEDDING_DIMENSIONS
    const size =
      2 +
      (4 + 16) +
      (4 + 4) +
      (4 + content.length) +
      (4 + 1 + metadata.length) +
      (4 + vectorBytes) +
      (4 + modelBytes.length)
    const tuple = new Uint8Array(size)
    const view = new DataView(tuple.buffer)
    let at = 0
    view.setInt16(at, 6)
    at += 2
    const field = (bytes: number) => {
      view.setInt32(at, bytes)
      at += 4
    }
    field(16)
    tuple.set(uuid, at)
    at += 16
    field(4)
    view.setInt32(at, chunk.index)
    at += 4
    field(content.length)
    tuple.set(content, at)
    at += content.length
    field(1 + metadata.length)
    tuple[at++] = 1 // jsonb binary format version
    tuple.set(metadata, at)
    at += metadata.length
    field(vectorBytes)
    view.setInt16(at, EMBEDDING_DIMENSIONS)
    view.setInt16(at + 2, 0)
    at += 4
    for (let i = 0; i < EMBEDDING_DIMENSIONS; i++, at += 4) view.setFloat32(at, chunk.values[i] ?? 0)
    field(modelBytes.length)
    tuple.set(modelBytes, at)
    at += modelBytes.length
    parts.push(tuple)
  }
  parts.push(Uint8Array.of(0xff, 0xff))
  await pglite.query(
    `copy public.knowledge_chunks (document_id, chunk_index, content, metadata, embedding, embedding_model)
       from '/dev/blob' with (format binary)`,
    [],
    { blob: new Blob(parts) },
  )
}
