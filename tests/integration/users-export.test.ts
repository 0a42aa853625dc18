import { beforeAll, describe, expect, test } from 'bun:test'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import type { Tx } from '@/lib/db/database'
import { ConversationStore } from '@/services/conversations/store'
import { EXPORT_PAGE_SIZE } from '@/services/users/service'

// The export against the database itself: every section is read again here as the table owner
// (no RLS, no store) and compared field by field; a second user with the same kinds of data,
// in the same team and round, must leave no trace in it.

let t: TestApp
let alice: TestUser
let bob: TestUser
let carol: TestUser
const MESSAGES = EXPORT_PAGE_SIZE.messages * 2 + 1

interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of several shapes, each checked by toEqual
  [key: string]: any
}

async function ok(user: TestUser, method: string, path: string, body?: unknown, status = 200): Promise<Json> {
  const response = await t.request(`/api/v1${path}`, {
    method,
    headers: { ...user.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (response.status !== status) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : {}
}

/** Everything of one kind a user has: profile edits, assessments, chats, a big one, an expired one. */
async function seed(user: TestUser, tag: string) {
  await ok(user, 'PATCH', '/users/me', { bio: `${tag} bio`, preferences: { secret: `${tag} preference` } })
  const { assessment } = await ok(
    user,
    'POST',
    '/assessments',
    { pillar_id: 'divsexp', mode: 'egalitarian' },
    201,
  )
  const { questions } = await ok(user, 'GET', `/assessments/${assessment.id}/questions`)
  // Every question answered: only a whole assessment earns its completion points.
  for (const question of questions) {
    await ok(user, 'POST', `/assessments/${assessment.id}/answers`, { question_id: question.id, answer: 4 })
  }
  await ok(user, 'POST', `/assessments/${assessment.id}/complete`)
  await ok(user, 'POST', '/assessments', { pillar_id: 'status', mode: 'hierarchical' }, 201)
  // Events: two through the API, then more than an export page of them in SQL.
  const now = new Date().toISOString()
  await ok(
    user,
    'POST',
    '/events',
    {
      events: [
        { id: crypto.randomUUID(), type: 'page_view', occurred_at: now, page: `/${tag}/page` },
        {
          id: crypto.randomUUID(),
          type: 'insight_viewed',
          occurred_at: now,
          properties: { note: `${tag} event` },
        },
      ],
    },
    202,
  )
  await t.services.db.asService((tx) =>
    tx.query(
      `insert into public.events (user_id, id, type, occurred_at, page)
       select $1, gen_random_uuid(), 'navigation_click', now() - make_interval(secs => g), '/' || $2 || '/' || g
         from generate_series(1, $3::int) g`,
      [user.id, tag, EXPORT_PAGE_SIZE.events],
    ),
  )
  const store = new ConversationStore(t.services.db)
  const claims = { sub: user.id, email: user.email }
  const exchange = (conversationId: string, text: string, create = true) =>
    store.saveExchange(claims, {
      conversationId,
      ...(create ? { create: { title: `${tag} chat`, pillarId: null, mode: null } } : {}),
      userText: `${tag} asks ${text}`,
      assistantText: `${tag} hears ${text}`,
      provider: 'local',
      model: 'local',
      usage: { input_tokens: 3, output_tokens: 5 },
      ttlDays: 7,
    })
  const big = crypto.randomUUID()
  await exchange(big, 'first')
  await t.services.db.asService((tx) =>
    tx.query(
      `insert into public.conversation_messages (conversation_id, user_id, role, content)
       select $1, $2, case when g % 2 = 0 then 'user' else 'assistant' end, $3 || ' message ' || g
         from generate_series(1, $4::int) g`,
      [big, user.id, tag, MESSAGES - 2],
    ),
  )
  await exchange(crypto.randomUUID(), 'second')
  // Expired: gone for its owner (and the export) though the hourly job has not purged it yet.
  const expired = crypto.randomUUID()
  await exchange(expired, 'expired')
  await t.services.db.asService((tx) =>
    tx.query(`update public.conversations set expires_at = now() - interval '1 hour' where id = $1`, [
      expired,
    ]),
  )
  return { expired }
}

let aliceExpired: string

beforeAll(async () => {
  t = await testApp(LOCAL_AUTH)
  ;[alice, bob, carol] = [await newUser(), await newUser(), await newUser()]
  aliceExpired = (await seed(alice, 'alice')).expired
  await seed(bob, 'bob')
  // Carol's team, which Alice and Bob both join; Carol's round, in which both take part.
  const { team } = await ok(carol, 'POST', '/teams', { name: 'Carol’s crew' }, 201)
  const { code } = await ok(carol, 'POST', `/teams/${team.id}/invite-code`)
  await ok(alice, 'POST', '/teams/join', { code })
  await ok(bob, 'POST', '/teams/join', { code })
  const { round } = await ok(
    carol,
    'POST',
    `/teams/${team.id}/rounds`,
    { name: 'Q1', pillar_id: 'grpprosp', mode: 'egalitarian' },
    201,
  )
  await ok(alice, 'POST', `/teams/${team.id}/rounds/${round.id}/participate`)
  await ok(bob, 'POST', `/teams/${team.id}/rounds/${round.id}/participate`)
  // A second team of Carol's invites both; Alice's own team invites someone.
  const { team: other } = await ok(carol, 'POST', '/teams', { name: 'Carol’s second' }, 201)
  await ok(carol, 'POST', `/teams/${other.id}/invitations`, { email: alice.email }, 201)
  await ok(carol, 'POST', `/teams/${other.id}/invitations`, { email: bob.email }, 201)
  const { team: own } = await ok(alice, 'POST', '/teams', { name: 'Alice’s own' }, 201)
  await ok(alice, 'POST', `/teams/${own.id}/invitations`, { email: 'someone@example.test' }, 201)
  const { team: bobs } = await ok(bob, 'POST', '/teams', { name: 'Bob’s own' }, 201)
  await ok(bob, 'POST', `/teams/${bobs.id}/invitations`, { email: 'someone-else@example.test' }, 201)
}, DB_SETUP_TIMEOUT_MS)

/** Rows as JSON would carry them: timestamps as ISO strings, the named columns left out. */
function plain(rows: Record<string, unknown>[], drop: string[] = []) {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([key]) => !drop.includes(key))
        .map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]),
    ),
  )
}

/** What the database holds for the user, read as the table owner. */
async function held(tx: Tx, user: TestUser) {
  const q = (sql: string, params: unknown[] = [user.id]) => tx.query<Record<string, unknown>>(sql, params)
  const conversations = await q(
    `select * from public.conversations where user_id = $1 and expires_at > now() order by created_at, id`,
  )
  return {
    profile: plain(await q('select * from public.user_profiles where id = $1'))[0],
    assessments: plain(
      await q('select * from public.assessment_sessions where user_id = $1 order by created_at, id'),
      ['user_id'],
    ),
    conversations: await Promise.all(
      plain(conversations, ['user_id']).map(async (conversation) => ({
        ...conversation,
        messages: plain(
          await q(
            'select * from public.conversation_messages where conversation_id = $1 order by created_at, id',
            [conversation.id],
          ),
          ['user_id', 'conversation_id'],
        ),
      })),
    ),
    memberships: plain(
      await q(
        `select m.team_id, t.name as team_name, m.role, m.joined_at from public.team_members m
           join public.teams t on t.id = m.team_id where m.user_id = $1 order by m.joined_at, m.team_id`,
      ),
    ),
    invitations: plain(
      await q(
        'select * from public.team_invitations where email = $2 or invited_by = $1 order by created_at, id',
        [user.id, user.email],
      ),
    ),
    round_participations: plain(
      await q(
        'select * from public.team_round_participants where user_id = $1 order by created_at, round_id',
      ),
      ['user_id'],
    ),
    invitations_sent: plain(
      await q(
        'select id, team_id, status, created_at from public.team_invitations where invited_by = $1 order by created_at, id',
      ),
    ),
    rounds_opened: plain(
      await q(
        'select id as round_id, team_id, created_at from public.team_rounds where created_by = $1 order by created_at, id',
      ),
    ),
    events: plain(
      await q(
        `select id, type, occurred_at, received_at, session_id, page, pillar_id, properties
           from public.events where user_id = $1 order by occurred_at, id`,
      ),
    ),
    points: {
      summary:
        plain(
          await q(
            `select points, streak_current, streak_longest, last_active_date::text as last_active_date,
                    leaderboard_opt_in, updated_at from public.points_summary where user_id = $1`,
          ),
        )[0] ?? null,
      badges: plain(
        await q(
          'select badge_key, earned_at from public.user_badges where user_id = $1 order by earned_at, badge_key',
        ),
      ),
      ledger: plain(
        await q(
          `select id::text as id, points, reason, cause_key, pillar_id, created_at
             from public.points_ledger where user_id = $1 order by created_at, id`,
        ),
      ),
    },
    account: {
      ...plain(
        await q(
          'select email, raw_user_meta_data as user_metadata, created_at from auth.users where id = $1',
        ),
      )[0],
      sessions: plain(
        await q(
          `select id, created_at, refreshed_at, revoked_at, revoked_reason from auth.local_sessions
            where user_id = $1 order by created_at, id`,
        ),
      ),
    },
  }
}

async function exportOf(user: TestUser) {
  const response = await t.request('/api/v1/users/me/export', { headers: user.headers })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
  expect(response.headers.get('content-disposition')).toMatch(
    /^attachment; filename="pilar-export-\d{4}-\d{2}-\d{2}\.json"$/,
  )
  // A streamed answer still carries what every answer does (it once lost them: a bare Response).
  expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  expect(response.headers.get('ratelimit-remaining')).toMatch(/^\d+$/)
  expect(response.headers.get('vary')).toBe('Origin')
  // Read piece by piece, as a client would: the body arrives in many chunks, not one.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ''
  let chunks = 0
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    chunks++
    text += decoder.decode(next.value, { stream: true })
  }
  return { text, chunks, body: JSON.parse(text) as Json }
}

describe('GET /users/me/export', () => {
  test('holds exactly what the database holds for the caller, section by section', async () => {
    const { body, chunks } = await exportOf(alice)
    const expected = await t.services.db.transaction((tx) => held(tx, alice))
    expect(body.format).toBe('pilar-export')
    expect(body.profile).toEqual(expected.profile)
    expect(body.assessments).toEqual(expected.assessments)
    expect(body.assessments).toHaveLength(3)
    expect(body.conversations).toEqual(expected.conversations)
    expect(
      body.conversations.map((c: Json) => c.messages.length).sort((a: number, b: number) => a - b),
    ).toEqual([2, MESSAGES])
    expect(body.memberships).toEqual(expected.memberships)
    expect(body.memberships.map((m: Json) => m.role).sort()).toEqual(['member', 'owner'])
    expect(body.invitations).toEqual(expected.invitations)
    expect(body.invitations).toHaveLength(2)
    expect(body.round_participations).toEqual(expected.round_participations)
    expect(body.round_participations).toHaveLength(1)
    expect(body.invitations_sent).toEqual(expected.invitations_sent)
    expect(body.rounds_opened).toEqual(expected.rounds_opened)
    expect(body.account).toEqual(expected.account)
    expect(body.account.email).toBe(alice.email)
    expect(body.events).toEqual(expected.events)
    expect(body.events).toHaveLength(EXPORT_PAGE_SIZE.events + 2)
    expect(body.points).toEqual(expected.points)
    // Completing the assessment earned points and the event batch the day's activity.
    expect(body.points.summary.points).toBeGreaterThan(0)
    expect(body.points.ledger.map((row: Json) => row.reason)).toContain('assessment_completed')
    // Messages came in pages of 500, each its own chunk (and more chunks around them).
    expect(chunks).toBeGreaterThan(Math.ceil(MESSAGES / EXPORT_PAGE_SIZE.messages))
    expect(Object.keys(body).sort()).toEqual(
      [
        'format',
        'version',
        'exported_at',
        'profile',
        'assessments',
        'conversations',
        'memberships',
        'invitations',
        'round_participations',
        'invitations_sent',
        'rounds_opened',
        'account',
        'events',
        'points',
      ].sort(),
    )
  })

  test('contains nothing of another user’s, though they share a team and a round', async () => {
    const { text } = await exportOf(alice)
    const theirs = await t.services.db.transaction((tx) => held(tx, bob))
    const ids = [
      bob.id,
      ...theirs.assessments.map((a) => a.id),
      ...theirs.conversations.flatMap((c) => [
        (c as Record<string, unknown>).id,
        ...c.messages.map((m) => m.id),
      ]),
      ...theirs.invitations.map((i) => i.id),
    ] as string[]
    expect(ids.length).toBeGreaterThan(MESSAGES)
    expect(ids.filter((id) => text.includes(id))).toEqual([])
    for (const needle of [
      bob.email,
      'bob bio',
      'bob preference',
      'bob message',
      'bob asks',
      'Bob’s own',
      'bob event',
      '/bob/',
    ]) {
      expect({ needle, found: text.includes(needle) }).toEqual({ needle, found: false })
    }
    // …while Alice's own texts are there (so the search above could have found something).
    for (const needle of [
      alice.email,
      'alice bio',
      'alice preference',
      'alice message 7',
      'alice asks',
      'alice event',
      '/alice/',
    ]) {
      expect({ needle, found: text.includes(needle) }).toEqual({ needle, found: true })
    }
    expect(text.includes(aliceExpired)).toBe(false)
  })

  test('every public table with a user column is in the export or listed here as not the user’s own data', async () => {
    const tables = await t.services.db.transaction((tx) =>
      tx.query<{ table: string }>(
        `select distinct c.table_name as table from information_schema.columns c
          where c.table_schema = 'public' and c.column_name in ('user_id', 'owner_id', 'invited_by', 'created_by')
          order by 1`,
      ),
    )
    const exported = [
      'assessment_sessions',
      'conversation_messages',
      'events',
      'points_ledger',
      'points_summary',
      'user_badges',
      'team_members',
      'team_invitations',
      'team_round_participants',
    ]
    const notOwnData: Record<string, string> = {
      // Security bookkeeping of logouts and deletions, not content; see docs/architecture.md.
      auth_revoked_sessions: 'revocations',
      conversations: 'exported (user_id) — with its messages',
      // A team and its rounds are the team's; the export names the teams through memberships.
      teams: 'team data',
      team_rounds: 'team data',
    }
    // A new table fails here until the export includes it.
    expect(tables.map((r) => r.table).sort()).toEqual([...exported, ...Object.keys(notOwnData)].sort())
  })

  test('without a valid token → 401, nothing streamed', async () => {
    const response = await t.request('/api/v1/users/me/export', { headers: { authorization: 'Bearer nope' } })
    expect(response.status).toBe(401)
  })
})
