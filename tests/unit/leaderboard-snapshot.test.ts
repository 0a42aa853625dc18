import { expect, test } from 'bun:test'
import type { AuthUser } from '@/lib/auth/types'
import { LevelCatalog } from '@/services/progress/gamification'
import { LeaderboardService } from '@/services/progress/leaderboard'
import type { LedgerStore } from '@/services/progress/ledger-store'

// The global rank past `exactRanks` comes from a snapshot refreshed behind the request. A stale
// snapshot is answered at once, so a failing refresh has no caller awaiting it: it must not
// become an unhandled rejection, which ends a Bun process (and fails this test).
test('a failed background refresh of the rank snapshot answers the stale rank and is tried again', async () => {
  let histogramCalls = 0
  let failing = false
  const store = {
    levels: async () => [{ number: 1, threshold: 0, title: 'Newcomer' }],
    globalBoard: async () => ({ rows: [], me: { points: 10, ahead: 5 } }),
    boardHistogram: async () => {
      histogramCalls++
      if (failing) throw new Error('database went away')
      return [
        { points: 50, users: 7 },
        { points: 10, users: 1 },
      ]
    },
  } as unknown as LedgerStore
  const board = new LeaderboardService(store, new LevelCatalog(store), { exactRanks: 2, snapshotTtlMs: 0 })
  const user = { id: 'u' } as AuthUser

  expect((await board.global(user, 10)).me).toEqual({ rank: 8, points: 10 })
  failing = true
  // Stale (TTL 0): answered from the old snapshot while the refresh fails behind it.
  expect((await board.global(user, 10)).me).toEqual({ rank: 8, points: 10 })
  await Bun.sleep(10)
  expect((await board.global(user, 10)).me).toEqual({ rank: 8, points: 10 })
  await Bun.sleep(10)
  expect(histogramCalls).toBe(3)
})
