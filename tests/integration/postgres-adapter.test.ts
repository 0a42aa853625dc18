import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { DB_SETUP_TIMEOUT_MS, freshPglite } from '@tests/helpers/db'
import { freePort } from '@tests/helpers/ports'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPostgres } from '@/lib/db/postgres'

// The DATABASE_URL adapter (Bun.sql) against a real Postgres wire protocol: a separate PGlite
// served over a loopback socket. Prepared statements off, as behind Supabase's pooler.
let pglite: PGlite
let socketServer: PGLiteSocketServer
let db: Database

beforeAll(async () => {
  pglite = await freshPglite()
  const port = freePort()
  socketServer = new PGLiteSocketServer({ db: pglite, port, host: '127.0.0.1' })
  await socketServer.start()
  const driver = await openPostgres({
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    prepare: false,
    maxConnections: 1,
  })
  expect(await bootstrap(driver)).toBe('applied')
  db = withRoles(driver)
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await db?.close()
  await socketServer?.stop()
  await pglite?.close()
})

describe('Postgres adapter over the wire', () => {
  test('bootstrap is idempotent and migrations apply once', async () => {
    const files = readMigrations(MIGRATIONS_DIR)
    expect(await migrate(db, files)).toEqual(files.map((f) => f.file))
    expect(await migrate(db, files)).toEqual([])
    expect(await bootstrap(db)).toBe('skipped')
  })

  test('parameters, JSON and multi-statement scripts round-trip', async () => {
    const [row] = await db.transaction((tx) =>
      tx.query<{ n: number; doc: { a: number }; t: string }>(
        'select $1::int + 1 as n, $2::text::jsonb as doc, $3::text as t',
        [41, JSON.stringify({ a: 1 }), "it's"],
      ),
    )
    expect(row).toEqual({ n: 42, doc: { a: 1 }, t: "it's" })
    await db.transaction((tx) =>
      tx.exec('create temp table scratch (x int); insert into scratch values (1), (2);'),
    )
  })

  test('asUser applies row-level security through the wire', async () => {
    const ids: string[] = [crypto.randomUUID(), crypto.randomUUID()]
    await db.transaction(async (tx) => {
      for (const id of ids) {
        await tx.query('insert into auth.users (id, email) values ($1, $2)', [id, `${id}@example.test`])
        await tx.query('insert into public.user_profiles (id, email) values ($1, $2)', [
          id,
          `${id}@example.test`,
        ])
      }
    })
    const seen = await db.asUser({ sub: ids[0] ?? '' }, (tx) =>
      tx.query<{ id: string }>('select id from public.user_profiles'),
    )
    expect(seen.map((r) => r.id)).toEqual([ids[0] ?? 'missing'])
    await expect(
      db.asUser({ sub: ids[0] ?? '' }, (tx) => tx.query("update public.user_profiles set role = 'admin'")),
    ).rejects.toThrow('permission denied')
  })

  test('a failed transaction rolls back', async () => {
    const id = crypto.randomUUID()
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into auth.users (id) values ($1)', [id])
        await tx.query('select 1/0')
      }),
    ).rejects.toThrow('division by zero')
    const rows = await db.transaction((tx) => tx.query('select 1 from auth.users where id = $1', [id]))
    expect(rows).toEqual([])
  })
})
