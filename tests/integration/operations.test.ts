import { beforeAll, describe, expect, test } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { type TestApp, testApp } from '@tests/helpers/app'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'

let t: TestApp

beforeAll(async () => {
  t = await testApp()
}, DB_SETUP_TIMEOUT_MS)

describe('/health and /ready', () => {
  test('/health answers without touching dependencies', async () => {
    const response = await t.request('/health')
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toEqual({ status: 'ok', version: t.services.version, uptime_s: expect.any(Number) })
  })

  test('/ready reports the database and migrations', async () => {
    const response = await t.request('/ready')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'ready',
      checks: {
        database: { status: 'ok', kind: 'embedded' },
        migrations: { status: 'ok', applied: t.services.migrations.length, pending: [] },
        llm: { status: 'ok', providers: [{ name: 'local', state: 'closed' }] },
      },
      shutting_down: false,
    })
  })

  test('/ready answers 503 once draining starts', async () => {
    const draining = await testApp()
    draining.services.lifecycle.startDraining()
    const response = await draining.request('/ready')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ status: 'not_ready', shutting_down: true })
  })

  test('concurrent /ready calls share one database probe, and draining still shows at once', async () => {
    const probed = await testApp()
    const { db } = probed.services
    const ping = db.ping.bind(db)
    let pings = 0
    db.ping = () => {
      pings++
      return ping()
    }
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => probed.request('/ready').then((r) => r.status)),
    )
    expect(statuses).toEqual(Array(20).fill(200))
    expect(pings).toBe(1)
    // Within the cache's second: the database part is reused, the drain is not.
    probed.services.lifecycle.startDraining()
    const response = await probed.request('/ready')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ status: 'not_ready', shutting_down: true })
  })

  test('/ready answers 503 when a migration is pending', async () => {
    const behind = await testApp()
    behind.services.migrations.push({
      version: '99999999999999',
      name: 'future',
      file: '99999999999999_future.sql',
      sql: '',
    })
    const response = await behind.request('/ready')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({
      status: 'not_ready',
      checks: { migrations: { status: 'error', pending: ['99999999999999_future.sql'] } },
    })
  })
})

describe('routing', () => {
  test("the app stays on Hono's RegExpRouter (a static route beside a parameter drops it to the trie router, halving throughput)", async () => {
    await t.request('/health')
    expect(t.app.router.name).toBe('SmartRouter + RegExpRouter')
  })
})

describe('/openapi.json', () => {
  test('is a valid OpenAPI 3.1 document describing the routes', async () => {
    const response = await t.request('/openapi.json')
    expect(response.status).toBe(200)
    const spec = (await response.json()) as { openapi: string; paths: Record<string, unknown> }
    const validator = new Validator()
    const result = await validator.validate(spec)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/ready']))
  })
})

describe('/docs', () => {
  test('an interactive reference that loads nothing from another host', async () => {
    const response = await t.request('/docs')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('text/html')
    const html = await response.text()
    const references = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1] ?? '')
    expect(references.length).toBeGreaterThanOrEqual(3)
    for (const reference of references) {
      expect(reference).toStartWith('/')
      expect(reference).not.toStartWith('//')
    }
    expect(html).not.toMatch(/https?:\/\//)
    // The browser enforces it as well: every fetch directive is 'self' only.
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).not.toMatch(/https?:|\*/)

    for (const reference of references) {
      const asset = await t.request(reference)
      expect(asset.status).toBe(200)
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100)
    }
  })

  test('the UI is told not to send the document to an external validator', async () => {
    const init = await (await t.request('/docs/assets/init.js')).text()
    expect(init).toContain('validatorUrl: null')
    expect(init).toContain("url: '/openapi.json'")
  })

  test('only the listed assets are served', async () => {
    expect((await t.request('/docs/assets/package.json')).status).toBe(404)
    expect((await t.request('/docs/assets/..%2F..%2Fpackage.json')).status).toBe(404)
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect((await t.request(`/docs/assets/${name}`)).status).toBe(404)
    }
  })
})
