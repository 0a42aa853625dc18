import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type PostgresServer, requirePostgresInCi, startPostgres } from '@tests/helpers/postgres-server'
import { MIGRATIONS_DIR } from '@/container'
import type { AuthUser } from '@/lib/auth/types'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { sqlState } from '@/lib/db/errors'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPostgres } from '@/lib/db/postgres'
import { NO_ACTIVITY } from '@/services/progress/activity-port'
import { type EventInput, EventService } from '@/services/progress/events'
import { EventStore } from '@/services/progress/events-store'

// A client that times out and retries while its first request is still in flight sends the
// same batch twice at once. PGlite runs one transaction at a time, so only a real server shows
// what happens then: with `on conflict do nothing` the second insert waits for the first and
// skips its rows — every event stored once, counted once. The naive check-then-insert, run the
// same way, sees no stored ids in each copy and then fails on the key (a 500 to the client).
// Debian has no pgvector: the migrations up to assessments, then the events one.
const COPIES = 12
const EVENTS_MIGRATION = '20261201000600'

const available = requirePostgresInCi()

let server: PostgresServer
let db: Database

beforeAll(async () => {
  if (!available) return
  server = await startPostgres()
  const driver = await openPostgres({ url: server.url, prepare: true, maxConnections: COPIES + 2 })
  await bootstrap(driver)
  db = withRoles(driver)
  const vectorFree = readMigrations(MIGRATIONS_DIR).filter(
    (m) => m.version <= '20261122000300' || m.version === EVENTS_MIGRATION,
  )
  expect(vectorFree.map((m) => m.version)).toContain(EVENTS_MIGRATION)
  await migrate(db, vectorFree)
}, 60_000)

afterAll(async () => {
  await db?.close()
  await server?.stop()
})

async function newUser(): Promise<AuthUser> {
  const id = crypto.randomUUID()
  await db.transaction((tx) =>
    tx.query('insert into auth.users (id, email) values ($1, $2)', [id, `${id}@x.test`]),
  )
  return { id, email: undefined, role: 'user', sessionId: undefined, claims: { sub: id }, idHash: id }
}

const batchOf = (n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    type: 'page_view',
    occurred_at: new Date().toISOString(),
    page: `/p/${i}`,
    properties: { i },
  }))

const stored = async (userId: string) => {
  const [row] = await db.transaction((tx) =>
    tx.query<{ n: number }>('select count(*)::int as n from public.events where user_id = $1', [userId]),
  )
  return Number(row?.n)
}

describe.skipIf(!available)('real PostgreSQL, overlapping retries of one batch', () => {
  test(`${COPIES} copies of a batch at once: stored once, accepted once; the naive check-then-insert fails`, async () => {
    const user = await newUser()
    const events = batchOf(100)
    const service = new EventService(new EventStore(db), NO_ACTIVITY, () => new Date())
    const results = await Promise.all(Array.from({ length: COPIES }, () => service.ingest(user, events)))
    expect(results.reduce((sum, r) => sum + r.accepted, 0)).toBe(100)
    expect(results.every((r) => r.accepted + r.duplicates === 100)).toBe(true)
    expect(await stored(user.id)).toBe(100)
    // JSON went in as jsonb, not as a JSON string (the adapter's `$n::text::jsonb` rule).
    const [row] = await db.transaction((tx) =>
      tx.query<{ kind: string }>(
        'select jsonb_typeof(properties) as kind from public.events where user_id = $1 limit 1',
        [user.id],
      ),
    )
    expect(row?.kind).toBe('object')

    // The naive way: read which ids are stored, insert the others — each copy sees none stored.
    const naiveUser = await newUser()
    const outcomes = await Promise.all(
      Array.from({ length: COPIES }, () =>
        db
          .asService(async (tx) => {
            const ids = events.map((e) => e.id)
            const known = await tx.query<{ id: string }>(
              'select id::text from public.events where user_id = $1 and id = any($2::uuid[])',
              [naiveUser.id, ids],
            )
            const seen = new Set(known.map((k) => k.id))
            // A pause between the check and the write, as a busy server has.
            await tx.query('select pg_sleep(0.05)')
            for (const e of events.filter((x) => !seen.has(x.id))) {
              await tx.query(
                `insert into public.events (user_id, id, type, occurred_at, page) values ($1, $2, $3, $4, $5)`,
                [naiveUser.id, e.id, e.type, e.occurred_at, e.page],
              )
            }
            return 'ok'
          })
          .catch((error: unknown) => sqlState(error) ?? String(error)),
      ),
    )
    expect(outcomes.filter((o) => o === '23505').length).toBeGreaterThan(0)
  }, 30_000)
})
