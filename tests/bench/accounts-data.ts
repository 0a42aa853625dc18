import { parseArgs } from 'node:util'
import { testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser, type TestUser } from '@tests/helpers/auth'

/**
 * bun run bench accounts-data [--messages 10000] [--conversations 20] [--chars 400]
 *
 * The export of a user with many messages (time, bytes, peak RSS above the baseline) next to the
 * naive export that reads every message in one query and serializes it at once, then the deletion
 * of that user (time). In-process on an in-memory PGlite, so RSS includes the database's own
 * memory: the figure that matters is the difference between the two shapes, measured side by side.
 */
const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    conversations: { type: 'string', default: '20' },
    chars: { type: 'string', default: '400' },
  },
})
const MESSAGES = Number(args.messages)
const CONVERSATIONS = Number(args.conversations)
const CHARS = Number(args.chars)

const t = await testApp(LOCAL_AUTH)
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

async function seed(user: TestUser) {
  expect200(await t.request('/api/v1/users/me', { headers: user.headers }))
  await t.services.db.asService(async (tx) => {
    const perConversation = Math.ceil(MESSAGES / CONVERSATIONS)
    for (let c = 0; c < CONVERSATIONS; c++) {
      const [row] = await tx.query<{ id: string }>(
        `insert into public.conversations (user_id, title, expires_at) values ($1, $2, now() + interval '7 days') returning id`,
        [user.id, `Conversation ${c}`],
      )
      await tx.query(
        `insert into public.conversation_messages (conversation_id, user_id, role, content, provider, model)
         select $1, $2, case when g % 2 = 0 then 'user' else 'assistant' end,
                left(repeat(md5(g::text), ($3::int / 32) + 1), $3::int), 'local', 'local'
           from generate_series(1, $4::int) g`,
        [row?.id, user.id, CHARS, Math.min(perConversation, MESSAGES - c * perConversation)],
      )
    }
  })
}

function expect200(response: Response) {
  if (response.status !== 200 && response.status !== 204) throw new Error(`status ${response.status}`)
}

/** Runs `fn` while sampling RSS every 2 ms; returns its result, the time and the peak above the start. */
async function measure<T>(fn: () => Promise<T>) {
  Bun.gc(true)
  const heapBase = process.memoryUsage().heapUsed
  retainedPeak = heapBase
  const base = process.memoryUsage.rss()
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 2)
  const started = performance.now()
  try {
    const result = await fn()
    peak = Math.max(peak, process.memoryUsage.rss())
    return { result, ms: performance.now() - started, peak: peak - base, retained: retainedPeak - heapBase }
  } finally {
    clearInterval(timer)
  }
}

async function streamed(user: TestUser) {
  const response = await t.request('/api/v1/users/me/export', { headers: user.headers })
  expect200(response)
  let bytes = 0
  let chunks = 0
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    bytes += next.value.byteLength
    chunks++
    if (sampling && chunks % 25 === 0) sampleRetained()
  }
  return { bytes, chunks }
}

/**
 * The JS heap still reachable mid-export (after a full GC): what the export holds, as opposed to
 * garbage not yet collected, which RSS also counts.
 */
let retainedPeak = 0
/** Off for the timed rounds (a GC every 25 chunks would be timed too), on for the heap rounds. */
let sampling = false
function sampleRetained() {
  Bun.gc(true)
  retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed)
}

/** What an export without pages would do: every message in one result, one JSON.stringify. */
async function naive(user: TestUser) {
  const rows = await t.services.db.asUser({ sub: user.id, email: user.email }, (tx) =>
    tx.query(
      'select * from public.conversation_messages where user_id = $1 order by conversation_id, created_at, id',
      [user.id],
    ),
  )
  const text = JSON.stringify({ messages: rows })
  if (sampling) sampleRetained()
  return { bytes: Buffer.byteLength(text), chunks: 1 }
}

const [streamUser, naiveUser] = [await newUser(), await newUser()]
await seed(streamUser)
await seed(naiveUser)
// Warm both paths once (JIT, plan caches) on the same data.
await streamed(streamUser)
await naive(naiveUser)

const rounds = 6
const results: Record<
  string,
  { ms: number[]; peak: number[]; retained: number[]; bytes: number; chunks: number }
> = {}
for (let i = 0; i < rounds; i++) {
  // Even rounds: time and RSS as a server would see them; odd rounds: the live heap (GC sampled).
  sampling = i % 2 === 1
  for (const [name, run, user] of [
    ['streamed', streamed, streamUser],
    ['naive', naive, naiveUser],
  ] as const) {
    const { result, ms, peak, retained } = await measure(() => run(user))
    const entry = results[name] ?? {
      ms: [],
      peak: [],
      retained: [],
      bytes: result.bytes,
      chunks: result.chunks,
    }
    if (sampling) entry.retained.push(retained)
    else {
      entry.ms.push(ms)
      entry.peak.push(peak)
    }
    results[name] = entry
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
console.log(
  `export of a user with ${MESSAGES} messages (${CONVERSATIONS} conversations, ${CHARS} chars each):`,
)
for (const [name, r] of Object.entries(results)) {
  console.log(
    `  ${name.padEnd(9)} ${median(r.ms).toFixed(0).padStart(6)} ms  peak RSS +${mb(median(r.peak))}  live JS heap +${mb(median(r.retained))}  ${mb(r.bytes)} in ${r.chunks} chunks`,
  )
}
const s = results.streamed
const n = results.naive
if (s && n) {
  console.log(`  peak RSS, naive / streamed: ${(median(n.peak) / Math.max(1, median(s.peak))).toFixed(1)}×`)
  console.log(`  live JS heap: a full GC every 25 chunks, in separate rounds; what the export holds at once`)
}

const deletion = await measure(() =>
  t.request('/api/v1/users/me', { method: 'DELETE', headers: streamUser.headers }).then(expect200),
)
console.log(`deletion of that user: ${deletion.ms.toFixed(0)} ms`)
const after = await t.request('/api/v1/users/me', { headers: streamUser.headers })
console.log(`their token afterwards: ${after.status}`)
await t.services.close()
process.exit(0)
