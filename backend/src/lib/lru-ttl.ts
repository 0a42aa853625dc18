/**
 * A bounded map whose entries expire: least recently used first out when full, and an entry
 * past its `expiresAt` is never returned. A JavaScript Map keeps insertion order, so "touch"
 * is delete-and-reinsert and the oldest key is the first one. Time is passed in by the caller,
 * which reads its clock once per request.
 */
export class LruTtl<V> {
  readonly #map = new Map<string, { value: V; expiresAt: number }>()

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
    this.#map.delete(key)
    if (entry.expiresAt <= now) return undefined
    this.#map.set(key, entry)
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
  }

  delete(key: string): boolean {
    return this.#map.delete(key)
  }

  /** Deletes every entry whose value matches; returns how many went. */
  deleteWhere(matches: (value: V) => boolean): number {
    let count = 0
    for (const [key, entry] of this.#map) {
      if (matches(entry.value)) {
        this.#map.delete(key)
        count++
      }
    }
    return count
  }

  /** Empties the map; returns how many entries it held. */
  clear(): number {
    const count = this.#map.size
    this.#map.clear()
    return count
  }
}
