import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type BenchServer, spawnBenchServer } from '@tests/helpers/bench-server'
import { PASSWORD_HASH } from '@/services/accounts/local-accounts'

/**
 * bun run bench accounts [--users 32] [--concurrency 1,4] [--seconds 3] [--part sign-in,refresh,data]
 *
 * Local accounts (/auth/v1) on the real server process over a temporary DATA_DIR (embedded
 * PGlite, local auth):
 * - sign-in: password sign-ins per second (POST /auth/v1/token?grant_type=password), printed
 *   beside the bare cost of one argon2id verification with the same parameters in this process
 *   — argon2 is meant to be slow, and it is most of a sign-in;
 * - refresh: refresh-token exchanges per second (each a rotation: one token used, its child
 *   written, a new access token signed), so the ratio to sign-ins shows what argon2 costs.
 * Each part runs at every concurrency given, side by side in one run (these machines are noisy).
 */
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '32' },
    concurrency: { type: 'string', default: '1,4' },
    seconds: { type: 'string', default: '3' },
    part: { type: 'string', default: 'sign-in,refresh,data' },
  },
})
const USERS = Number(args.users)
const CONCURRENCY = String(args.concurrency).split(',').map(Number)
const SECONDS = Number(args.seconds)
const PASSWORD = 'bench password, long enough'

interface Context {
  server: BenchServer
  emails: string[]
}

/** One benchmark part: prints its own lines. */
interface BenchPart {
  name: string
  run(context: Context): Promise<void>
}

const json = { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' }

async function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) })
}

/** Runs `once` from `workers` loops for `seconds`; returns completed calls per second. */
async function throughput(workers: number, seconds: number, once: (worker: number) => Promise<void>) {
  const deadline = performance.now() + seconds * 1000
  let done = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline) {
        await once(worker)
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

const signIn: BenchPart = {
  name: 'sign-in',
  async run({ server, emails }) {
    const verifyOnce = await Bun.password.hash(PASSWORD, PASSWORD_HASH)
    const bare = await throughput(1, SECONDS, async () => {
      if (!(await Bun.password.verify(PASSWORD, verifyOnce))) throw new Error('verify failed')
    })
    console.log(
      `argon2id m=${PASSWORD_HASH.memoryCost} KiB (${(PASSWORD_HASH.memoryCost / 1024).toFixed(0)} MiB), t=${PASSWORD_HASH.timeCost}, p=1`,
    )
    console.log(`  bare Bun.password.verify in this process, 1 at a time: ${bare.toFixed(1)}/s`)
    let next = 0
    for (const workers of CONCURRENCY) {
      const rate = await throughput(workers, SECONDS, async () => {
        const email = emails[next++ % emails.length] as string
        const response = await post(server.base, '/auth/v1/token?grant_type=password', {
          email,
          password: PASSWORD,
        })
        if (response.status !== 200)
          throw new Error(`sign-in answered ${response.status}: ${await response.text()}`)
        await response.arrayBuffer()
      })
      console.log(
        `  password sign-ins, concurrency ${workers}: ${rate.toFixed(1)}/s  (${(rate / bare).toFixed(2)}× bare verify)`,
      )
    }
  },
}

const refresh: BenchPart = {
  name: 'refresh',
  async run({ server, emails }) {
    for (const workers of CONCURRENCY) {
      // One session per worker; each exchange hands the next call the rotated token.
      const tokens = await Promise.all(
        Array.from({ length: workers }, async (_, i) => {
          const email = emails[i % emails.length] as string
          const response = await post(server.base, '/auth/v1/token?grant_type=password', {
            email,
            password: PASSWORD,
          })
          return ((await response.json()) as { refresh_token: string }).refresh_token
        }),
      )
      const rate = await throughput(workers, SECONDS, async (worker) => {
        const response = await post(server.base, '/auth/v1/token?grant_type=refresh_token', {
          refresh_token: tokens[worker],
        })
        if (response.status !== 200)
          throw new Error(`refresh answered ${response.status}: ${await response.text()}`)
        tokens[worker] = ((await response.json()) as { refresh_token: string }).refresh_token
      })
      console.log(`  refresh exchanges (rotation), concurrency ${workers}: ${rate.toFixed(1)}/s`)
    }
  },
}

// ---- The parts, in order. Export and deletion of a user with 10,000 messages are added here
// ---- (each a BenchPart) by the accounts export/deletion work.
/**
 * Export and deletion of a user with 10,000 messages: tests/bench/accounts-data.ts, in a process of
 * its own so its peak RSS is the export's alone (this one holds a server and many sockets).
 */
const data: BenchPart = {
  name: 'data',
  async run() {
    const child = Bun.spawn(['bun', join(import.meta.dir, 'accounts-data.ts')], {
      stdout: 'inherit',
      stderr: 'inherit',
    })
    if ((await child.exited) !== 0) throw new Error('accounts-data failed')
  },
}

const PARTS: BenchPart[] = [signIn, refresh, data]

const chosen = String(args.part).split(',')
const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-accounts-'))
const server = await spawnBenchServer({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  RATE_LIMIT_SIGNIN_EMAIL: '1000000',
  RATE_LIMIT_SIGNIN_ADDRESS: '1000000',
  RATE_LIMIT_SIGNUP_ADDRESS: '1000000',
})
try {
  const emails = Array.from({ length: USERS }, (_, i) => `bench-${i}-${crypto.randomUUID()}@example.test`)
  for (const email of emails) {
    const response = await post(server.base, '/auth/v1/signup', { email, password: PASSWORD })
    if (response.status !== 200)
      throw new Error(`sign-up answered ${response.status}: ${await response.text()}`)
    await response.arrayBuffer()
  }
  console.log(`local accounts: ${USERS} users on a fresh embedded database, ${SECONDS} s per measurement`)
  for (const part of PARTS) {
    if (!chosen.includes(part.name)) continue
    console.log(`\n[${part.name}]`)
    await part.run({ server, emails })
  }
} finally {
  await server.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
