/**
 * A bounded map whose entries expire: least recently used first out when full, and an entry
 * past its `expiresAt` is never returned. A JavaScript Map keeps insertion order, so "touch"
 * is delete-and-reinsert and the oldest key is the first one — skipped when the key is already
 * the last one (a client's requests in a row: one lookup instead of three map operations, the
 * order the same). Time is passed in by the caller, which reads its clock once per request.
 */
export class LruTtl<V> {
  readonly #map = new Map<string, { value: V; expiresAt: number }>()
  /** The key last put at the end of `#map` (its most recently used), or undefined. */
  #newest: string | undefined

  constructor(
    readonly maxEntries: number,
    /** Called for each entry pushed out to make room (not for expiries or deletes). */
    private readonly onEvict?: () => void,
  ) {}

  get size(): number {
    return this.#map.size
  }

  /** The live value for `key`, marked most recently used; an expired entry is dropped. */
  get(key: string, now: number): V | undefined {
    const entry = this.#map.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= now) {
      this.delete(key)
      return undefined
    }
    if (key !== this.#newest) {
      this.#map.delete(key)
      this.#map.set(key, entry)
      this.#newest = key
    }
    return entry.value
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#map.delete(key)
    while (this.#map.size >= this.maxEntries) {
      const oldest = this.#map.keys().next().value
      if (oldest === undefined) break
      this.#map.delete(oldest)
      this.onEvict?.()
    }
    this.#map.set(key, { value, expiresAt })
    this.#newest = key
  }

  delete(key: string): boolean {
    if (key === this.#newest) this.#newest = undefined
    return this.#map.delete(key)
  }

  /** Deletes every entry whose value matches; returns how many went. */
  deleteWhere(matches: (value: V) => boolean): number {
    let count = 0
    for (const [key, entry] of this.#map) {
      if (matches(entry.value)) {
        this.delete(key)
        count++
      }
    }
    return count
  }

  /** Empties the map; returns how many entries it held. */
  clear(): number {
    const count = this.#map.size
    this.#map.clear()
    this.#newest = undefined
    return count
  }
}
