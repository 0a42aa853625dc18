import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newUser, TEST_JWT_SECRET } from '@tests/helpers/auth'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'
import openapiTS, { astToString } from 'openapi-typescript'

// The SPA's typed client: types generated from the live /openapi.json with openapi-typescript,
// a small module written with openapi-fetch (tests/client/spa-client.ts) type-checked against
// them, then run against the real server. A breaking change to the API must be a type error:
// the same module is checked against the generated types with one response field renamed.

const CLIENT_DIR = join(import.meta.dir, '../client')
const GENERATED = join(CLIENT_DIR, 'generated/api.d.ts')
const TSC = join(import.meta.dir, '../../node_modules/typescript/bin/tsc')

let server: ServerProcess
let dataDir: string

beforeAll(async () => {
  dataDir = await preparedDataDir()
  server = await startServer({ DATA_DIR: dataDir, LOCAL_JWT_SECRET: TEST_JWT_SECRET })
  const spec = await (await fetch(`${server.baseUrl}/openapi.json`)).json()
  mkdirSync(join(CLIENT_DIR, 'generated'), { recursive: true })
  writeFileSync(GENERATED, astToString(await openapiTS(spec)))
}, 90_000)

afterAll(async () => {
  server?.child.kill('SIGTERM')
  await server?.exited
  rmSync(join(CLIENT_DIR, 'generated/broken'), { recursive: true, force: true })
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

/** What the test calls of tests/client/spa-client.ts (typed there, against the generated types). */
interface SpaModule {
  spaClient(baseUrl: string, token: string): unknown
  takeAssessment(client: unknown, pillarId: string, mode: string, answer: number): Promise<unknown>
  runTeamRound(client: unknown, teamName: string, pillarId: string, mode: string): Promise<unknown>
}

/** `tsc --noEmit -p <dir>/tsconfig.json`: exit code and output. */
async function typecheck(dir: string) {
  const child = Bun.spawn(['bun', TSC, '--noEmit', '-p', join(dir, 'tsconfig.json')], {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const output = (await new Response(child.stdout).text()) + (await new Response(child.stderr).text())
  return { code: await child.exited, output }
}

describe('a typed client generated from /openapi.json', () => {
  test('the SPA module type-checks against the live document, and a renamed field does not', async () => {
    // The same module and config, with the generated types broken the way a careless API
    // change would: `pillar_score` renamed in every schema that has it.
    // Inside the repository (the git-ignored generated/), so openapi-fetch resolves from node_modules.
    const broken = join(CLIENT_DIR, 'generated/broken')
    mkdirSync(join(broken, 'generated'), { recursive: true })
    for (const file of ['spa-client.ts', 'tsconfig.json']) cpSync(join(CLIENT_DIR, file), join(broken, file))
    const types = readFileSync(GENERATED, 'utf8')
    expect(types).toContain('pillar_score')
    writeFileSync(join(broken, 'generated/api.d.ts'), types.replaceAll('pillar_score', 'pillar_score_pct'))
    const [good, bad] = await Promise.all([typecheck(CLIENT_DIR), typecheck(broken)])
    expect(good).toEqual({ code: 0, output: '' })
    expect(bad.code).not.toBe(0)
    expect(bad.output).toContain("Property 'pillar_score' does not exist")
  }, 60_000)

  test('runs against the server: an assessment taken, a team round read back', async () => {
    // Loaded at run time from a computed path: the root typecheck never sees the generated types.
    const modulePath = join(CLIENT_DIR, 'spa-client.ts')
    const client = (await import(modulePath)) as SpaModule
    const user = await newUser()
    const spa = client.spaClient(server.baseUrl, user.token)
    const taken = await client.takeAssessment(spa, 'divsexp', 'egalitarian', 5)
    expect(taken).toEqual({ id: expect.any(String), status: 'completed', pillarScore: 100 })
    const round = await client.runTeamRound(spa, 'Typed team', 'outresp', 'egalitarian')
    // One completion of the minimum three: closed, counted, and nothing shown.
    expect(round).toEqual({ visible: false, minCompleted: 3, completed: 1, results: null })
  }, 30_000)
})
