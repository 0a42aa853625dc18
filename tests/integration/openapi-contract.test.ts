import { beforeAll, describe, expect, test } from 'bun:test'
import { type TestApp, testApp } from '@tests/helpers/app'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { ERROR_CODES, type ErrorCode } from '@/lib/errors/codes'

// The document's promises, checked two ways: what it says (every operation declares its
// errors, each with an example of its own code, and its security), and what the app does when
// each operation is provoked in the ways every client meets (no token, a bad token, a wrong
// content type, a body too large, broken JSON): every status answered must be declared, with a
// code the document lists for that status.

interface Example {
  value: { error?: { code?: string }; code?: unknown }
}
interface Media {
  schema?: { $ref?: string }
  examples?: Record<string, Example>
  example?: { code?: unknown }
}
interface Operation {
  operationId?: string
  security?: Record<string, string[]>[]
  requestBody?: unknown
  responses: Record<string, { content?: Record<string, Media> }>
}
type Spec = { paths: Record<string, Record<string, Operation>> }

const BODY_LIMIT = 2_048
let t: TestApp
let spec: Spec
const operations: { method: string; path: string; op: Operation }[] = []

beforeAll(async () => {
  t = await testApp({ ...LOCAL_AUTH, BODY_LIMIT_BYTES: String(BODY_LIMIT) })
  spec = (await (await t.request('/openapi.json')).json()) as Spec
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) operations.push({ method, path, op })
  }
}, DB_SETUP_TIMEOUT_MS)

const isGoTrue = (path: string) => path.startsWith('/auth/v1/')
const isWrite = (method: string) => ['post', 'put', 'patch', 'delete'].includes(method)
const needsToken = (op: Operation) =>
  (op.security ?? []).length > 0 && !(op.security ?? []).some((s) => Object.keys(s).length === 0)
const label = (method: string, path: string) => `${method.toUpperCase()} ${path}`

/** The codes an operation declares for a status (its examples), or undefined if not declared. */
function declared(op: Operation, status: number): string[] | undefined {
  const response = op.responses[String(status)]
  if (!response) return undefined
  const media = response.content?.['application/json']
  return Object.keys(media?.examples ?? {})
}

// Errors answered with a body of their own: /ready's 503 is the readiness report.
const OWN_BODIES = new Set(['GET /ready 503'])

// Path parameters no row has: the probe must reach the route, not build a valid request.
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000')

describe('what /openapi.json says', () => {
  test('every operation has a unique operationId', () => {
    expect(operations.length).toBeGreaterThan(60)
    const missing = operations.filter(({ op }) => !op.operationId).map((o) => label(o.method, o.path))
    expect(missing).toEqual([])
    const ids = operations.map(({ op }) => op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test("every error response has an example per code, each of that status's own code", () => {
    const wrong: string[] = []
    for (const { method, path, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || OWN_BODIES.has(`${label(method, path)} ${status}`)) continue
        const media = response.content?.['application/json']
        const where = `${label(method, path)} ${status}`
        if (isGoTrue(path)) {
          if (media?.example?.code === undefined) wrong.push(`${where}: no example`)
          continue
        }
        if (media?.schema?.$ref !== `#/components/schemas/Error${status}`) wrong.push(`${where}: schema`)
        const examples = Object.entries(media?.examples ?? {})
        if (examples.length === 0) wrong.push(`${where}: no example`)
        for (const [name, example] of examples) {
          const code = example.value.error?.code as ErrorCode | undefined
          if (code !== name || ERROR_CODES[code]?.status !== Number(status)) {
            wrong.push(`${where}: example ${name} says ${code}`)
          }
        }
      }
    }
    expect(wrong).toEqual([])
  })

  test("the per-status error bodies only admit that status's codes", async () => {
    const schemas = (
      (await (await t.request('/openapi.json')).json()) as {
        components: {
          schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }>
        }
      }
    ).components.schemas
    const unauthorized = schemas.Error401?.properties.error.properties.code.enum
    expect(unauthorized).toEqual(['UNAUTHORIZED'])
    expect(schemas.Error503?.properties.error.properties.code.enum).toEqual([
      'LLM_UNAVAILABLE',
      'AUTH_UNAVAILABLE',
      'DATABASE_UNAVAILABLE',
    ])
  })

  test('what the middleware adds is declared: 500 everywhere, 429 on /api, 400/413/415 on /api writes, 401/429/503 with a token', () => {
    const missing: string[] = []
    const need = (op: Operation, where: string, code: ErrorCode) => {
      if (!declared(op, ERROR_CODES[code].status)?.includes(code)) missing.push(`${where} ${code}`)
    }
    for (const { method, path, op } of operations) {
      const where = label(method, path)
      if (isGoTrue(path)) {
        if (!op.responses['500']) missing.push(`${where} 500`)
        continue
      }
      need(op, where, 'INTERNAL')
      if (path.startsWith('/api/')) need(op, where, 'RATE_LIMITED')
      if (path.startsWith('/api/') && isWrite(method)) {
        for (const code of ['INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const) {
          need(op, where, code)
        }
      }
      if (op.security?.some((s) => 'bearer' in s)) {
        for (const code of ['UNAUTHORIZED', 'RATE_LIMITED', 'AUTH_UNAVAILABLE'] as const)
          need(op, where, code)
      }
    }
    expect(missing).toEqual([])
    // The two the issue named.
    const me = spec.paths['/api/v1/auth/me']?.get
    const logout = spec.paths['/api/v1/auth/logout']?.post
    expect(me && declared(me, 429)).toEqual(['RATE_LIMITED'])
    expect(logout && declared(logout, 429)).toEqual(['RATE_LIMITED'])
    expect(logout && declared(logout, 415)).toEqual(['UNSUPPORTED_MEDIA_TYPE'])
  })
})

interface Probe {
  name: string
  init: (method: string, headers: Record<string, string>) => RequestInit
  /** Only for writes under /api (the body checks run there). */
  writesOnly?: boolean
  /** The status the probe must get on every operation it applies to, when it must. */
  expect?: (method: string, path: string, op: Operation) => number | undefined
}

const PROBES: Probe[] = [
  {
    name: 'no token',
    init: (method) => ({ method }),
    expect: (_m, _p, op) => (needsToken(op) ? 401 : undefined),
  },
  {
    name: 'a refused token',
    init: (method) => ({ method, headers: { authorization: 'Bearer not-a-token' } }),
    expect: (_m, _p, op) => ((op.security ?? []).some((s) => 'bearer' in s) ? 401 : undefined),
  },
  { name: 'a valid token, nothing else', init: (method, headers) => ({ method, headers }) },
  {
    name: 'a text/plain body',
    writesOnly: true,
    // Framing headers as on the wire (app.request sends none of its own).
    init: (method, headers) => ({
      method,
      headers: { ...headers, 'content-type': 'text/plain', 'content-length': '5' },
      body: 'hello',
    }),
    expect: () => 415,
  },
  {
    name: 'broken JSON',
    writesOnly: true,
    init: (method, headers) => ({
      method,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': '14' },
      body: '{"unfinished":',
    }),
    expect: () => 400,
  },
  {
    name: 'a body over BODY_LIMIT_BYTES',
    writesOnly: true,
    init: (method, headers) => {
      const body = JSON.stringify({ padding: 'x'.repeat(BODY_LIMIT * 2) })
      return {
        method,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) },
        body,
      }
    },
    expect: () => 413,
  },
]

describe('what the app answers is what the document declares', () => {
  test.each(PROBES.map((probe) => [probe.name, probe] as const))('%s', async (_name, probe) => {
    const problems: string[] = []
    let sent = 0
    for (const { method, path, op } of operations) {
      if (probe.writesOnly && !(path.startsWith('/api/') && isWrite(method))) continue
      // A fresh user each time: logging out or deleting the account must not refuse the next one.
      const { headers } = await newUser()
      const response = await t.request(concrete(path), probe.init(method.toUpperCase(), headers))
      sent++
      const where = `${label(method, path)}: ${response.status}`
      const wanted = probe.expect?.(method, path, op)
      if (wanted !== undefined && response.status !== wanted) problems.push(`${where}, wanted ${wanted}`)
      if (!op.responses[String(response.status)]) {
        problems.push(`${where} is not declared`)
        continue
      }
      if (response.status < 400 || isGoTrue(path)) continue
      const body = (await response.json()) as { error?: { code?: string } }
      const code = body.error?.code ?? ''
      if (!declared(op, response.status)?.includes(code)) problems.push(`${where} ${code} is not declared`)
    }
    expect(sent).toBeGreaterThan(probe.writesOnly ? 30 : 60)
    expect(problems).toEqual([])
  })
})

describe('docs/api.md', () => {
  test('names every operation of /openapi.json (method and path), and no other', async () => {
    const text = await Bun.file(new URL('../../docs/api.md', import.meta.url)).text()
    const named = new Set(
      [...text.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/g)].map((m) => `${m[1]} ${m[2]}`),
    )
    const documented = operations.map(({ method, path }) => label(method, path))
    expect(documented.filter((op) => !named.has(op))).toEqual([])
    expect([...named].filter((op) => !documented.includes(op))).toEqual([])
  })
})
