import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeOpenAI } from '@tests/fakes/openai'
import { FakeSupabaseAuth } from '@tests/fakes/supabase-auth'
import { signToken } from '@tests/fakes/tokens'
import { newUser, TEST_JWT_SECRET } from '@tests/helpers/auth'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { freePort } from '@tests/helpers/ports'
import { readmeWalkthrough, runWalkthrough, slowest } from '@tests/helpers/readme-walkthrough'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'
import { outputDiffers, shownOutput } from '@tests/helpers/shown-output'
import type { Server, Subprocess } from 'bun'

// A peer validator, not ours: Stoplight Prism in proxy mode between the client and the real
// server process, checking every request and every answer against the server's own
// /openapi.json. Prism logs each request it receives, whether it forwarded it, and each
// violation it found (and with `--errors` it refuses an invalid request itself, with an
// application/problem+json of its own, and says so in the log). So everything here is judged
// from Prism's own log, whoever sent the request:
// - README.md's whole walk-through (tests/helpers/readme-walkthrough.ts) runs through the
//   `--errors` proxy — its one execution in the suite: every command must succeed and print
//   what the README shows, and Prism must find no violation (the few commands it would answer
//   itself go straight to the server: STRAIGHT_TO_SERVER);
// - the operations the walk-through does not reach, and the error cases (400 … 429, and 502/503
//   from a second server whose LLM and auth server are fakes that fail), go through it too;
// - requests that break the spec on purpose go through a second proxy without `--errors`, which
//   forwards them: Prism must name the request and find nothing wrong with the server's answer.
//   That proxy reads a tampered copy of the spec (GET /health must carry a field the server
//   never sends): the positive control, where Prism must report the response.
// At the end every operation of the spec must have had an answer of the server checked by Prism.

const PRISM = join(import.meta.dir, '../../node_modules/.bin/prism')

// The walk-through's shell commands need bash, curl and jq: under CI a missing one is a
// failure (.ci/run installs them); locally the file says why it skips.
const MISSING = ['bash', 'curl', 'jq'].filter((command) => !Bun.which(command))
if (MISSING.length > 0 && process.env.CI === 'true') {
  throw new Error(`the README walk-through needs ${MISSING.join(', ')} (.ci/run installs them)`)
}
if (MISSING.length > 0) console.warn(`contract-prism.test.ts skipped: ${MISSING.join(', ')} not installed`)
const suite = MISSING.length > 0 ? describe.skip : describe
const BODY_LIMIT = 4_096
const AUTH_FAILURES = 3
/** The slug of the requests `settled()` sends (not counted as driving an operation). */
const FLUSH = 'prism-flush-'
/** Requests carrying this header go to the outage server (through the same Prism). */
const UPSTREAM = 'x-test-upstream'

// Operations no request here can drive, each with why. None today: the servers are
// throwaways, so even the admin operations that change others' state (role changes, session
// clean-up, cache invalidation) run. A new operation fails the coverage test until it is
// driven below or listed here with its reason.
const NOT_DRIVEN: Record<string, string> = {}

// Error codes of the spec that no request here provokes, with why.
const CODES_NOT_PROVOKED: Record<string, string> = {
  INTERNAL: 'a 500 is a bug: nothing valid or invalid a client sends should cause one',
  DATABASE_UNAVAILABLE: 'needs the embedded database taken away under a running server',
  // Tried: Prism 5.16 never answers a request whose JSON body does not parse, in either mode
  // (the client waits forever), so a malformed body cannot be sent through it.
  INVALID_JSON: 'Prism hangs on a body that is not JSON',
}

/**
 * Walk-through commands that go straight to the server, each with why. Prism (`--errors`)
 * would answer them itself, so the README's shown output (the server's) could not be checked:
 * - a path the spec does not have (the 404 examples) is no contract's business, and Prism's
 *   404 has no X-Request-Id, which the command looks for;
 * - the two requests the README breaks the spec with on purpose — no token at all, and a
 *   "role" with a javascript: avatar URL — which Prism refuses (UNAUTHORIZED, 422). The
 *   lenient proxy below sends both and checks the server's own answers.
 */
const STRAIGHT_TO_SERVER: [RegExp, string][] = [
  [/\/api\/v1\/nothing/, 'outside the spec'],
  [/^curl -s localhost:3001\/api\/v1\/auth\/me$/, 'no token: Prism refuses it'],
  [/"role":"admin","avatar_url":"javascript:/, 'breaks the request schema: Prism refuses it'],
]
const straightToServer = (code: string) => STRAIGHT_TO_SERVER.some(([pattern]) => pattern.test(code.trim()))

type Json = Record<string, unknown>

interface Exchange {
  method: string
  path: string
  forwarded: boolean
  /** Prism's `Violation:` lines. */
  violations: string[]
  /** Set when Prism answered itself: the error it names (e.g. UNPROCESSABLE_ENTITY). */
  refused?: string
}

interface Proxy {
  base: string
  child: Subprocess<'ignore', 'pipe', 'pipe'>
  log: string[]
}

let main: ServerProcess
let outage: ServerProcess
let router: Server<undefined>
let strict: Proxy
let lenient: Proxy
const dataDirs: string[] = []
const tempDir = mkdtempSync(join(tmpdir(), 'pilar-prism-'))
const auth = new FakeSupabaseAuth()
const llm = new FakeOpenAI()
/** `METHOD /template` of every operation in the spec. */
let operations: { key: string; method: string; pattern: RegExp; statics: number }[] = []
/** The error codes the spec's examples name (every operation lists the codes it answers). */
const specCodes = new Set<string>()
/** Error codes seen in answers that went through Prism. */
const codes = new Set<string>()
const timings: Record<string, number> = {}
let walkthroughExchanges: Exchange[] = []

async function startPrism(spec: string, errors: boolean, upstream: string): Promise<Proxy> {
  const port = freePort()
  const node = Bun.which('node')
  if (!node) throw new Error('Prism runs on Node: install nodejs')
  const args = [
    'proxy',
    spec,
    upstream,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    ...(errors ? ['--errors'] : []),
  ]
  const child = Bun.spawn([node, PRISM, ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const log: string[] = []
  let listening: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    listening = resolve
  })
  void (async () => {
    let buffered = ''
    for await (const chunk of child.stdout) {
      buffered += new TextDecoder().decode(chunk)
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colours, should Prism add them
        log.push(line.replace(/\x1b\[[0-9;]*m/g, ''))
        if (line.includes('Prism is listening')) listening()
      }
    }
  })()
  await Promise.race([
    started,
    child.exited.then(async () => {
      throw new Error(`prism exited: ${log.join('\n')}${await new Response(child.stderr).text()}`)
    }),
  ])
  return { base: `http://127.0.0.1:${port}`, child, log }
}

/** The exchanges in a proxy's log from line `from` on (requests here are never concurrent). */
function exchanges(proxy: Proxy, from = 0): Exchange[] {
  const found: Exchange[] = []
  for (const line of proxy.log.slice(from)) {
    const received = /\[HTTP SERVER\] (\w+) (\S+) .*Request received/.exec(line)
    if (received) {
      found.push({
        method: (received[1] ?? '').toUpperCase(),
        path: received[2] ?? '',
        forwarded: false,
        violations: [],
      })
      continue
    }
    const current = found.at(-1)
    if (!current) continue
    if (line.includes('> Forwarding')) current.forwarded = true
    const violation = /Violation: (.*)$/.exec(line)
    if (violation) current.violations.push(violation[1] ?? '')
    const refused = /Request terminated with error: \S*#(\w+)/.exec(line)
    if (refused) current.refused = refused[1]
  }
  return found
}

/** Waits until the proxy has logged every request sent before this call. */
async function settled(proxy: Proxy): Promise<void> {
  const mark = `/api/v1/content/${FLUSH}${crypto.randomUUID()}`
  await fetch(`${proxy.base}${mark}`)
  // Prism logs a request's verdict before it answers, and each line in order.
  for (let i = 0; i < 300 && !proxy.log.some((line) => line.includes(`upstream call to ${mark}`)); i++) {
    await Bun.sleep(10)
  }
}

/** The spec's `METHOD /template` for a request Prism logged. */
function operationOf(method: string, path: string): string | undefined {
  return operations
    .filter((op) => op.method === method && op.pattern.test(path))
    .sort((a, b) => b.statics - a.statics)[0]?.key
}

beforeAll(async () => {
  let started = performance.now()
  auth.start()
  llm.start()
  const [mainDir, outageDir] = await Promise.all([preparedDataDir(), preparedDataDir()])
  dataDirs.push(mainDir, outageDir)
  ;[main, outage] = await Promise.all([
    startServer({
      DATA_DIR: mainDir,
      LOCAL_JWT_SECRET: TEST_JWT_SECRET,
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      RATE_LIMIT_AUTH_FAILURES: String(AUTH_FAILURES),
      METRICS_TOKEN: 'prism-metrics-token',
    }),
    // The outage server: Supabase mode over the fake auth server, OpenAI over the fake LLM.
    startServer({
      DATA_DIR: outageDir,
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: auth.apiKey,
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: llm.apiKey,
      OPENAI_BASE_URL: llm.baseURL,
      EMBEDDINGS_PROVIDER: 'local',
    }),
  ])
  timings.servers_ms = Math.round(performance.now() - started)
  // One Prism per mode for both servers: a loopback hop in front picks the upstream by header.
  router = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const url = new URL(request.url)
      const target = request.headers.get(UPSTREAM) === 'outage' ? outage : main
      const headers = new Headers(request.headers)
      headers.delete('host')
      return fetch(`${target.baseUrl}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body: request.body,
        redirect: 'manual',
        decompress: false,
      })
    },
  })
  const specText = await (await fetch(`${main.baseUrl}/openapi.json`)).text()
  const spec = JSON.parse(specText) as { paths: Record<string, Record<string, unknown>> }
  operations = Object.entries(spec.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => ({
        key: `${m.toUpperCase()} ${template}`,
        method: m.toUpperCase(),
        pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
        statics: template.split('/').filter((s) => s && !s.startsWith('{')).length,
      })),
  )
  for (const item of Object.values(spec.paths)) {
    for (const operation of Object.values(item) as { responses?: Record<string, Json> }[]) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const content = (response.content as Record<string, { examples?: Json }> | undefined)?.[
          'application/json'
        ]
        if (/^[45]/.test(status)) for (const code of Object.keys(content?.examples ?? {})) specCodes.add(code)
      }
    }
  }
  const specPath = join(tempDir, 'openapi.json')
  writeFileSync(specPath, specText)
  // The positive control: the lenient proxy's copy says /health always carries `prism_canary`.
  const health = (spec as unknown as { components: { schemas: Record<string, { required: string[] }> } })
    .components.schemas.Health
  if (!health) throw new Error('the spec has no Health schema to tamper with')
  health.required = [...health.required, 'prism_canary']
  const tamperedPath = join(tempDir, 'openapi-tampered.json')
  writeFileSync(tamperedPath, JSON.stringify(spec))
  started = performance.now()
  const upstream = `http://127.0.0.1:${router.port}`
  ;[strict, lenient] = await Promise.all([
    startPrism(specPath, true, upstream),
    startPrism(tamperedPath, false, upstream),
  ])
  timings.prism_ms = Math.round(performance.now() - started)
}, 90_000)

afterAll(async () => {
  for (const proxy of [strict, lenient]) proxy?.child.kill()
  for (const server of [main, outage]) server?.child.kill('SIGTERM')
  await Promise.all([strict?.child.exited, lenient?.child.exited, main?.exited, outage?.exited])
  router?.stop(true)
  await Promise.all([auth.stop(), llm.stop()])
  rmSync(tempDir, { recursive: true, force: true })
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

interface Sent {
  status: number
  body: Json
  headers: Headers
  /** Prism answered itself (application/problem+json) instead of forwarding. */
  byPrism: boolean
}

interface SendOptions {
  params?: Record<string, string>
  query?: string
  token?: string
  json?: unknown
  headers?: Record<string, string>
  body?: string
  /** Send to the outage server instead. */
  outage?: boolean
}

/** One request through a proxy; `template` is the spec's path, filled from `params`. */
async function send(
  proxy: Proxy,
  method: string,
  template: string,
  options: SendOptions = {},
): Promise<Sent> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => options.params?.[name] ?? name)
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.json !== undefined) headers['content-type'] = 'application/json'
  if (options.outage) headers[UPSTREAM] = 'outage'
  const response = await fetch(`${proxy.base}${path}${options.query ?? ''}`, {
    method,
    headers,
    body: options.json === undefined ? options.body : JSON.stringify(options.json),
  })
  const text = await response.text()
  const body = text.startsWith('{') ? (JSON.parse(text) as Json) : {}
  const byPrism = (response.headers.get('content-type') ?? '').startsWith('application/problem+json')
  const code = (body.error as Json | undefined)?.code
  if (!byPrism && typeof code === 'string') codes.add(code)
  return { status: response.status, body, headers: response.headers, byPrism }
}

/** Through the `--errors` proxy (Prism's verdicts are read from its log at the end). */
const valid = (method: string, template: string, options: SendOptions = {}) =>
  send(strict, method, template, options)

const data = (sent: Sent, key: string) => sent.body[key] as Json

/** The exchanges of the strict proxy since `from` that Prism found anything wrong with. */
function faults(from: number): string[] {
  return exchanges(strict, from)
    .filter((e) => e.violations.length > 0 || e.refused)
    .map((e) => `${e.method} ${e.path} ${e.refused ?? ''} ${e.violations.join('; ')}`.trim())
}

suite('through Prism: the walk-through, every operation and every error case', () => {
  // README.md's walk-through runs once, here: readme.test.ts checks its text, this its run.
  test("README.md's walk-through: every command succeeds, every output it shows is what was printed, and Prism finds no violation", async () => {
    const all = readmeWalkthrough()
    // Each bypass still names a command of the README (else it hides nothing, or the README
    // changed under it).
    const unused = STRAIGHT_TO_SERVER.filter(([pattern]) => !all.some((st) => pattern.test(st.code.trim())))
    expect(unused.map(([, why]) => why)).toEqual([])
    const from = strict.log.length
    const began = performance.now()
    const run = await runWalkthrough(all, {
      base: (s) => (straightToServer(s.code) ? main.baseUrl : strict.base).replace('http://', ''),
      env: { LOCAL_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn' },
    })
    timings.walkthrough_ms = Math.round(performance.now() - began)
    console.info(`walk-through: ${all.length} commands; slowest ${slowest(all, run)}`)
    // Every command succeeds, in order (set -e -o pipefail).
    const failed = run.failed
    expect({
      exit: run.exitCode,
      failed: failed ? `block ${failed.block + 1}: ${failed.code}` : undefined,
      output: failed ? run.outputs[all.indexOf(failed)]?.slice(-600) : undefined,
      stderr: run.exitCode === 0 ? undefined : run.stderr.slice(-800),
    }).toEqual({ exit: 0, failed: undefined, output: undefined, stderr: undefined })
    expect(run.outputs.filter((o) => o !== undefined).length).toBe(all.length)

    // Every output a comment shows is what the command printed (tests/helpers/shown-output.ts).
    const shown = all.flatMap((s, k) => {
      const expected = shownOutput(s.expected)
      return expected ? [{ s, expected, output: run.outputs[k] ?? '' }] : []
    })
    // 54 when written: statuses, JSON bodies, headers, the stream, the round's progress.
    expect(shown.length).toBeGreaterThanOrEqual(50)
    const mismatches = shown.flatMap(({ s, expected, output }) => {
      const why = outputDiffers(expected, output)
      return why
        ? [
            {
              block: s.block + 1,
              command: s.code.split('\n')[0],
              why,
              printed: output.trimEnd().slice(0, 400),
            },
          ]
        : []
    })
    expect(mismatches).toEqual([])

    // And Prism saw the rest, found nothing wrong with it, and refused none of it.
    await settled(strict)
    walkthroughExchanges = exchanges(strict, from)
    expect(walkthroughExchanges.length).toBeGreaterThan(100)
    expect(walkthroughExchanges.filter((e) => e.violations.length > 0)).toEqual([])
    expect(
      walkthroughExchanges.filter((e) => e.refused).map((e) => `${e.method} ${e.path} → ${e.refused}`),
    ).toEqual([])
  }, 60_000)

  test('the operations the walk-through does not reach', async () => {
    const from = strict.log.length
    // Local accounts (GoTrue's shapes).
    const email = `prism-${crypto.randomUUID()}@example.test`
    const password = 'a long enough password'
    expect((await valid('POST', '/auth/v1/signup', { json: { email, password } })).status).toBe(200)
    const signin = await valid('POST', '/auth/v1/token', {
      query: '?grant_type=password',
      json: { email, password },
    })
    const session = signin.body.access_token as string
    expect((await valid('GET', '/auth/v1/user', { token: session })).status).toBe(200)
    expect((await valid('POST', '/auth/v1/logout', { token: session })).status).toBe(204)

    const owner = await newUser()
    const token = owner.token
    const created = await valid('POST', '/api/v1/assessments', {
      token,
      json: { pillar_id: 'status', mode: 'hierarchical' },
    })
    const id = data(created, 'assessment').id as string
    expect((await valid('GET', '/api/v1/assessments/{id}', { token, params: { id } })).status).toBe(200)
    expect((await valid('DELETE', '/api/v1/assessments/{id}', { token, params: { id } })).status).toBe(204)

    // AI features (the local provider) and a conversation's life.
    const ai = { pillar_id: 'divsexp', mode: 'egalitarian' }
    expect((await valid('POST', '/api/v1/ai/guidance', { token, json: ai })).status).toBe(200)
    expect(
      (await valid('POST', '/api/v1/ai/quiz-questions', { token, json: { ...ai, count: 2 } })).status,
    ).toBe(200)
    const analyzed = await valid('POST', '/api/v1/ai/analyze-content', {
      token,
      json: { content: 'We never say no to the manager in meetings.' },
    })
    expect(analyzed.status).toBe(200)
    const chat = await valid('POST', '/api/v1/ai/chat', { token, json: { message: 'What is status?' } })
    const conversation = { id: chat.body.conversation_id as string }
    expect(
      (await valid('GET', '/api/v1/ai/conversations/{id}/messages', { token, params: conversation })).status,
    ).toBe(200)
    expect(
      (await valid('DELETE', '/api/v1/ai/conversations/{id}', { token, params: conversation })).status,
    ).toBe(204)

    // A team's whole life: members, roles, invitations, a round, a transfer, the end.
    const [bea, cal, dan] = await Promise.all([newUser(), newUser(), newUser()])
    const team = await valid('POST', '/api/v1/teams', { token, json: { name: 'Prism team' } })
    const teamId = data(team, 'team').id as string
    const t = { id: teamId }
    await valid('GET', '/api/v1/teams', { token })
    await valid('GET', '/api/v1/teams/{id}', { token, params: t })
    await valid('PATCH', '/api/v1/teams/{id}', {
      token,
      params: t,
      json: { description: 'Checked by Prism' },
    })
    const code = (await valid('POST', '/api/v1/teams/{id}/invite-code', { token, params: t })).body
      .code as string
    for (const who of [bea, cal])
      await valid('POST', '/api/v1/teams/join', { token: who.token, json: { code } })
    await valid('GET', '/api/v1/teams/{id}/members', { token, params: t })
    const member = { id: teamId, user_id: bea.id }
    expect(
      (
        await valid('PATCH', '/api/v1/teams/{id}/members/{user_id}', {
          token,
          params: member,
          json: { role: 'admin' },
        })
      ).status,
    ).toBe(200)
    expect(
      (await valid('DELETE', '/api/v1/teams/{id}/members/{user_id}', { token, params: member })).status,
    ).toBe(204)
    const invite = async (to: string) =>
      data(
        await valid('POST', '/api/v1/teams/{id}/invitations', { token, params: t, json: { email: to } }),
        'invitation',
      ).id as string
    const revoked = await invite(`nobody-${crypto.randomUUID()}@example.test`)
    await invite(dan.email)
    await valid('GET', '/api/v1/teams/{id}/invitations', { token, params: t })
    const revoke = { id: teamId, invitation_id: revoked }
    expect(
      (await valid('DELETE', '/api/v1/teams/{id}/invitations/{invitation_id}', { token, params: revoke }))
        .status,
    ).toBe(204)
    const mine = await valid('GET', '/api/v1/invitations', { token: dan.token })
    const danInvitation = (mine.body.data as Json[])[0]?.id as string
    expect(
      (
        await valid('POST', '/api/v1/invitations/{id}/decline', {
          token: dan.token,
          params: { id: danInvitation },
        })
      ).status,
    ).toBe(204)
    const round = await valid('POST', '/api/v1/teams/{id}/rounds', {
      token,
      params: t,
      json: { name: 'Prism round', pillar_id: 'divsexp', mode: 'egalitarian' },
    })
    const r = { id: teamId, round_id: data(round, 'round').id as string }
    await valid('POST', '/api/v1/teams/{id}/rounds/{round_id}/participate', { token, params: r })
    await valid('GET', '/api/v1/teams/{id}/rounds', { token, params: t })
    await valid('GET', '/api/v1/teams/{id}/rounds/{round_id}', { token, params: r })
    expect(
      (await valid('POST', '/api/v1/teams/{id}/rounds/{round_id}/close', { token, params: r })).status,
    ).toBe(200)
    expect(
      (await valid('POST', '/api/v1/teams/{id}/transfer', { token, params: t, json: { user_id: cal.id } }))
        .status,
    ).toBe(200)
    expect((await valid('DELETE', '/api/v1/teams/{id}', { token: cal.token, params: t })).status).toBe(204)

    // Admin and operations.
    const admin = await newUser({ admin: true })
    const draft = await valid('POST', '/api/v1/content', {
      token: admin.token,
      json: { title: `Prism draft ${crypto.randomUUID()}`, kind: 'page', body: 'Gone soon.' },
    })
    const contentId = { id: data(draft, 'content').id as string }
    expect(
      (await valid('DELETE', '/api/v1/content/{id}', { token: admin.token, params: contentId })).status,
    ).toBe(204)
    expect((await valid('GET', '/api/v1/admin/stats', { token: admin.token })).status).toBe(200)
    expect(
      (await valid('GET', '/api/v1/admin/users', { token: admin.token, query: '?limit=5' })).status,
    ).toBe(200)
    const promoted = { id: bea.id }
    expect(
      (
        await valid('PATCH', '/api/v1/admin/users/{id}', {
          token: admin.token,
          params: promoted,
          json: { role: 'admin' },
        })
      ).status,
    ).toBe(200)
    expect((await valid('POST', '/api/v1/admin/cleanup-sessions', { token: admin.token })).status).toBe(200)
    expect(
      (
        await valid('POST', '/api/v1/auth/invalidate-cache', {
          token: admin.token,
          json: { user_id: bea.id },
        })
      ).status,
    ).toBe(200)
    expect((await valid('GET', '/metrics', { token: 'prism-metrics-token' })).status).toBe(200)
    await settled(strict)
    expect(faults(from)).toEqual([])
  }, 60_000)

  test('error cases a valid request provokes: 400, 401, 403, 404, 409, 413, 429', async () => {
    const from = strict.log.length
    const user = await newUser()
    const token = user.token
    const created = await valid('POST', '/api/v1/assessments', {
      token,
      json: { pillar_id: 'indrecip', mode: 'egalitarian' },
    })
    const id = data(created, 'assessment').id as string
    const statuses: Record<string, number> = {}
    // Each field within its schema, the pair not: normexp is a pillar of the other mode.
    statuses.pillar_of_other_mode = (
      await valid('POST', '/api/v1/assessments', {
        token,
        json: { pillar_id: 'normexp', mode: 'egalitarian' },
      })
    ).status
    statuses.wrong_password = (
      await valid('POST', '/auth/v1/token', {
        query: '?grant_type=password',
        json: { email: user.email, password: 'not the password' },
      })
    ).status
    statuses.complete_unanswered = (
      await valid('POST', '/api/v1/assessments/{id}/complete', { token, params: { id } })
    ).status
    statuses.missing = (
      await valid('GET', '/api/v1/assessments/{id}', {
        token,
        params: { id: '00000000-0000-4000-8000-000000000000' },
      })
    ).status
    statuses.not_admin = (await valid('GET', '/api/v1/admin/stats', { token })).status
    statuses.too_large = (
      await valid('POST', '/api/v1/rag/ingest', {
        token,
        json: { documents: [{ content: 'x'.repeat(BODY_LIMIT), metadata: {} }] },
      })
    ).status
    // Refused tokens: 401 until the address has spent its failure quota (the walk-through's
    // deleted account may have spent one), then 429.
    const refused: number[] = []
    for (let i = 0; i <= AUTH_FAILURES && refused.at(-1) !== 429; i++) {
      refused.push((await valid('GET', '/api/v1/users/me', { token: `not-a-token-${i}` })).status)
    }
    expect(statuses).toEqual({
      pillar_of_other_mode: 400,
      wrong_password: 400,
      complete_unanswered: 409,
      missing: 404,
      not_admin: 403,
      too_large: 413,
    })
    expect(refused.join(',')).toMatch(/^(401,)+429$/)
    await settled(strict)
    expect(faults(from)).toEqual([])
  }, 30_000)

  test('outages, from the second server: 503 AUTH_UNAVAILABLE, 502 UPSTREAM_ERROR, 503 LLM_UNAVAILABLE', async () => {
    const from = strict.log.length
    const seen: Record<string, unknown> = {}
    const answer = (sent: Sent) => ({
      status: sent.status,
      code: (sent.body.error as Json | undefined)?.code,
      retry_after: sent.headers.get('retry-after') !== null,
    })
    auth.failWith = 503
    seen.auth_down = answer(
      await valid('GET', '/api/v1/auth/me', { token: await signToken(auth.secret), outage: true }),
    )
    auth.failWith = null
    const token = await signToken(auth.secret)
    // The provider refuses the request (a 400): not an outage, so no failover and no breaker.
    llm.failWith = 400
    seen.llm_refuses = answer(
      await valid('POST', '/api/v1/ai/chat', { token, outage: true, json: { message: 'Hi' } }),
    )
    llm.failWith = 500
    seen.llm_down = answer(
      await valid('POST', '/api/v1/ai/chat', { token, outage: true, json: { message: 'Hi' } }),
    )
    llm.failWith = null
    expect(seen).toEqual({
      auth_down: { status: 503, code: 'AUTH_UNAVAILABLE', retry_after: true },
      llm_refuses: { status: 502, code: 'UPSTREAM_ERROR', retry_after: false },
      llm_down: { status: 503, code: 'LLM_UNAVAILABLE', retry_after: true },
    })
    await settled(strict)
    expect(faults(from)).toEqual([])
  }, 30_000)

  test('requests that break the spec on purpose: Prism names the request, and finds the answer right', async () => {
    const user = await newUser()
    const json = { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }
    const cases = [
      {
        name: 'a field out of its schema',
        method: 'POST',
        template: '/api/v1/assessments',
        options: { token: user.token, json: { pillar_id: 'nope', mode: 'egalitarian' } },
        answer: [400, 'VALIDATION_ERROR'],
      },
      {
        name: "the walk-through's profile patch (a role, a javascript: URL)",
        method: 'PATCH',
        template: '/api/v1/users/me',
        options: { token: user.token, json: { role: 'admin', avatar_url: 'javascript:alert(1)' } },
        answer: [400, 'VALIDATION_ERROR'],
      },
      {
        name: 'no token',
        method: 'GET',
        template: '/api/v1/auth/me',
        options: {},
        answer: [401, 'UNAUTHORIZED'],
      },
      {
        name: 'a text body',
        method: 'POST',
        template: '/api/v1/teams',
        options: { headers: { ...json, 'content-type': 'text/plain' }, body: 'a team' },
        answer: [415, 'UNSUPPORTED_MEDIA_TYPE'],
      },
    ]
    const seen: Record<string, unknown> = {}
    const want: Record<string, unknown> = {}
    for (const { name, method, template, options, answer } of cases) {
      // The --errors proxy refuses it without asking the server ...
      const refused = await send(strict, method, template, options)
      // ... the other forwards it: the request is the violation, the server's answer is not.
      const at = lenient.log.length
      const forwarded = await send(lenient, method, template, options)
      await settled(lenient)
      const [exchange] = exchanges(lenient, at)
      const violations = exchange?.violations ?? []
      seen[name] = {
        refused_by_prism: refused.byPrism,
        answer: [forwarded.status, (forwarded.body.error as Json | undefined)?.code],
        request_violations: violations.some((v) => v.startsWith('request')),
        response_violations: violations.filter((v) => !v.startsWith('request')),
      }
      want[name] = { refused_by_prism: true, answer, request_violations: true, response_violations: [] }
    }
    expect(seen).toEqual(want)
    // A path the spec does not have: refused by the --errors proxy, forwarded by the other.
    const nowhere = [
      await send(strict, 'GET', '/api/v1/nothing'),
      await send(lenient, 'GET', '/api/v1/nothing'),
    ]
    expect(nowhere.map((sent) => [sent.status, sent.byPrism])).toEqual([
      [404, true],
      [404, false],
    ])
  }, 30_000)

  test('the positive control: Prism reports an answer that breaks the (tampered) spec', async () => {
    const at = lenient.log.length
    const sent = await send(lenient, 'GET', '/health')
    await settled(lenient)
    const [exchange] = exchanges(lenient, at)
    expect(sent.status).toBe(200)
    expect(exchange?.violations.some((v) => v.startsWith('response') && v.includes('prism_canary'))).toBe(
      true,
    )
    expect(JSON.parse(sent.headers.get('sl-violations') ?? '[]')).toContainEqual(
      expect.objectContaining({ location: ['response', 'body'] }),
    )
    // The same request through the untampered spec: nothing to report.
    const from = strict.log.length
    await valid('GET', '/health')
    await settled(strict)
    expect(faults(from)).toEqual([])
  })

  test('every operation of the spec had an answer checked by Prism, and every error code was seen', () => {
    const driven = new Set(
      [...exchanges(strict), ...exchanges(lenient)]
        .filter((e) => e.forwarded && !e.path.includes(FLUSH))
        .map((e) => operationOf(e.method, e.path))
        .filter((key): key is string => key !== undefined),
    )
    const missing = operations.map((op) => op.key).filter((key) => !driven.has(key) && !(key in NOT_DRIVEN))
    const byWalkthrough = new Set(walkthroughExchanges.map((e) => operationOf(e.method, e.path)))
    const unseen = [...specCodes].filter((c) => !codes.has(c) && !(c in CODES_NOT_PROVOKED))
    console.info(
      `contract-prism: ${driven.size} of ${operations.length} operations answered through Prism ` +
        `(${byWalkthrough.size} by the README walk-through), ${Object.keys(NOT_DRIVEN).length} exempt; ` +
        `error codes seen ${[...codes].sort().join(' ')}; ` +
        `exchanges ${exchanges(strict).length} strict + ${exchanges(lenient).length} lenient; ` +
        `timings ${JSON.stringify(timings)}`,
    )
    expect(missing).toEqual([])
    expect(unseen).toEqual([])
  })
})
