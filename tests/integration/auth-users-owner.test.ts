import { afterAll, beforeAll, expect, test } from 'bun:test'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { testApp } from '@tests/helpers/app'
import { LOCAL_AUTH } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS, sharedDatabase } from '@tests/helpers/db'
import type { Database } from '@/lib/db/database'

// Issue 12, 3.10: DATABASE_URL at a Supabase project with local auth. Confirmed on the old code:
// the first request of a new local user was a 500 (user_profiles_id_fkey: Supabase's auth.users
// is filled only by Supabase Auth, so the local user is never in it).
let db: Database
const fake = new FakeSupabaseAuth().start()
const OURS = 'pilar-bootstrap: minimal auth.users, not managed by Supabase Auth'

beforeAll(async () => {
  ;({ db } = await sharedDatabase())
}, DB_SETUP_TIMEOUT_MS)
afterAll(() => fake.stop())

/** Runs `fn` while the shared auth.users looks like Supabase's (its table comment), then restores it. */
async function asSupabaseAuthUsers<T>(fn: () => Promise<T>): Promise<T> {
  await db.transaction((tx) =>
    tx.exec(`comment on table auth.users is 'Auth: Stores user login data within a secure schema.'`),
  )
  try {
    return await fn()
  } finally {
    await db.transaction((tx) => tx.exec(`comment on table auth.users is '${OURS}'`))
  }
}

test('local auth over a database whose auth.users belongs to Supabase Auth stops start-up, naming what to set', async () => {
  const outcome = await asSupabaseAuthUsers(() =>
    testApp(LOCAL_AUTH).then(
      () => 'started',
      (error: Error) => error.message,
    ),
  )
  expect(outcome).toContain('auth is local (SUPABASE_URL is unset)')
  expect(outcome).toContain('Set SUPABASE_URL and SUPABASE_ANON_KEY')
})

test('the same database with Supabase Auth configured starts', async () => {
  const app = await asSupabaseAuthUsers(() =>
    testApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: fake.apiKey }),
  )
  expect((await app.request('/health')).status).toBe(200)
})
