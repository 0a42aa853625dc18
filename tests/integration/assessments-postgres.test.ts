import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type PostgresServer, requirePostgresInCi, startPostgres } from '@tests/helpers/postgres-server'
import { MIGRATIONS_DIR } from '@/container'
import { bootstrap } from '@/lib/db/bootstrap'
import { type Database, withRoles } from '@/lib/db/database'
import { migrate, readMigrations } from '@/lib/db/migrations'
import { openPostgres } from '@/lib/db/postgres'

// PGlite is one connection, so concurrency there is interleaving. This runs the same atomic
// write on a real PostgreSQL server with 20 connections, where 200 transactions truly overlap
// and row locks decide. Debian has no pgvector for it, so only the migrations up to
// assessments are applied.
const N = 200
const available = requirePostgresInCi()

let server: PostgresServer
let db: Database
let userId: string

beforeAll(async () => {
  if (!available) return
  server = await startPostgres()
  const driver = await openPostgres({ url: server.url, prepare: true, maxConnections: 20 })
  await bootstrap(driver)
  db = withRoles(driver)
  const upToAssessments = readMigrations(MIGRATIONS_DIR).filter((m) => m.version <= '20261122000300')
  await migrate(db, upToAssessments)
  userId = crypto.randomUUID()
  await db.transaction(async (tx) => {
    await tx.query('insert into auth.users (id, email) values ($1, $2)', [userId, 'pg@example.test'])
    for (let n = 1; n <= N; n++) {
      await tx.query(
        `insert into public.assessment_questions (id, pillar_id, mode, force_key, force_name, position, text)
         values ($1, 'indrecip', 'egalitarian', 'probe', 'Probe', $2, $3)`,
        [`indrecip.probe.${n}`, 10_000 + n, `Probe statement ${n} for real concurrency.`],
      )
    }
  })
}, 60_000)

afterAll(async () => {
  await db?.close()
  await server?.stop()
})

async function newAssessment(): Promise<string> {
  const [row] = await db.asUser({ sub: userId }, (tx) =>
    tx.query<{ id: string }>(
      `insert into public.assessment_sessions (user_id, pillar_id, mode) values ($1, 'indrecip', 'egalitarian') returning id`,
      [userId],
    ),
  )
  return row?.id ?? ''
}

async function storedCount(id: string): Promise<number> {
  const [row] = await db.asService((tx) =>
    tx.query<{ n: number }>(
      'select (select count(*) from jsonb_object_keys(responses))::int as n from public.assessment_sessions where id = $1',
      [id],
    ),
  )
  return Number(row?.n)
}

describe.skipIf(!available)(`real PostgreSQL, 20 connections, ${N} concurrent answers`, () => {
  test('submit_assessment_answer loses none', async () => {
    const id = await newAssessment()
    const counts = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        db.asUser({ sub: userId }, (tx) =>
          tx.query<{ n: number }>('select public.submit_assessment_answer($1, $2, $3) as n', [
            id,
            `indrecip.probe.${i + 1}`,
            (i % 5) + 1,
          ]),
        ),
      ),
    )
    expect(counts.map((rows) => Number(rows[0]?.n)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: N }, (_, i) => i + 1),
    )
    expect(await storedCount(id)).toBe(N)
  })

  test('a naive read-merge-write on the same server loses answers', async () => {
    const id = await newAssessment()
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const [row] = await db.asUser({ sub: userId }, (tx) =>
          tx.query<{ responses: Record<string, unknown> }>(
            'select responses from public.assessment_sessions where id = $1',
            [id],
          ),
        )
        const merged = { ...row?.responses, [`indrecip.probe.${i + 1}`]: { answer: (i % 5) + 1 } }
        await db.asService((tx) =>
          tx.query('update public.assessment_sessions set responses = $2::text::jsonb where id = $1', [
            id,
            JSON.stringify(merged),
          ]),
        )
      }),
    )
    const kept = await storedCount(id)
    console.log(`naive read-merge-write on PostgreSQL kept ${kept} of ${N} answers`)
    expect(kept).toBeLessThan(N)
  })
})
