import { describe, expect, test } from 'bun:test'
import { LruTtl } from '@/lib/lru-ttl'

/** The keys of `cache` still held, by reading each one at time 0 (reads reorder, so on a copy of the history). */
function survivors(make: () => LruTtl<number>, keys: string[]): string[] {
  const cache = make()
  return keys.filter((key) => cache.get(key, 0) !== undefined)
}

describe('LruTtl', () => {
  test('a read moves its key to the most recent end, also after reads of the same key in a row', () => {
    const history = () => {
      const cache = new LruTtl<number>(3)
      cache.set('a', 1, 10)
      cache.set('b', 2, 10)
      cache.set('c', 3, 10)
      cache.get('c', 0)
      cache.get('c', 0)
      cache.get('a', 0) // a after c: b is now the least recently used
      cache.get('a', 0)
      cache.set('d', 4, 10)
      return cache
    }
    expect(survivors(history, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd'])
  })

  test('the last key set counts as the most recent; a deleted one is forgotten as such', () => {
    const history = () => {
      const cache = new LruTtl<number>(2)
      cache.set('a', 1, 10)
      cache.set('b', 2, 10)
      cache.get('b', 0) // already the newest
      cache.delete('b')
      cache.set('c', 3, 10)
      cache.get('a', 0) // a after c
      cache.set('d', 4, 10)
      return cache
    }
    expect(survivors(history, ['a', 'b', 'c', 'd'])).toEqual(['a', 'd'])
  })

  test('an expired entry is never returned, and is dropped on the read that finds it', () => {
    const cache = new LruTtl<number>(2)
    cache.set('a', 1, 10)
    expect(cache.get('a', 9)).toBe(1)
    expect(cache.get('a', 10)).toBeUndefined()
    expect(cache.size).toBe(0)
  })
})
