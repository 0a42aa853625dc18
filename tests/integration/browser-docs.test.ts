import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { LOCAL_AUTH, newUser } from '@tests/helpers/auth'
import { launchChromium, recordRequests, requireChromiumInCi } from '@tests/helpers/browser'
import { preparedDataDir } from '@tests/helpers/data-dir'
import { DB_SETUP_TIMEOUT_MS } from '@tests/helpers/db'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'
import type { Browser, Locator } from 'playwright-core'
import { localUserId } from '@/lib/auth/local-tokens'

// What a person and the SPA do in a real browser (Debian's Chromium through playwright-core):
// the self-hosted /docs page used as its reader would, and supabase-js's browser bundle on
// another origin signing up and calling the API through CORS. Every request either page makes
// is routed through Playwright: one that leaves loopback fails the test (and is never sent).

const available = requireChromiumInCi()
// Bounds for a loaded 2-core machine, not expectations: a normal run takes a fraction of this.
const BROWSER_TEST_TIMEOUT_MS = 60_000

const SUPABASE_UMD = Bun.resolveSync('@supabase/supabase-js/dist/umd/supabase.js', import.meta.dir)

// The SPA stand-in: the API's origin comes from the query string, as an SPA's build config
// would give it; the outcome is written into the page, where the test reads it.
const SPA_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>SPA stand-in</title></head>
<body>
<pre id="result"></pre>
<script src="/supabase.js"></script>
<script>
(async () => {
  const out = document.getElementById('result')
  try {
    const api = new URLSearchParams(location.search).get('api')
    const client = supabase.createClient(api, 'any-anon-key', {
      auth: { persistSession: false, autoRefreshToken: false },
    })
    const email = 'spa-' + crypto.randomUUID() + '@example.test'
    const signUp = await client.auth.signUp({ email, password: 'a long enough password' })
    if (signUp.error) throw signUp.error
    const token = signUp.data.session.access_token
    const me = await fetch(api + '/api/v1/auth/me', { headers: { authorization: 'Bearer ' + token } })
    out.textContent = JSON.stringify({ email, userId: signUp.data.user.id, status: me.status, body: await me.json() })
  } catch (error) {
    out.textContent = JSON.stringify({ error: String(error && error.message || error) })
  }
  out.dataset.done = 'true'
})()
</script>
</body>
</html>
`

// `.invalid` never resolves, so even a leak past the guard could not reach anyone.
const FOREIGN_URL = 'https://cdn.example.invalid/lib.js'
const FOREIGN_SCRIPT = `<!doctype html><script src="${FOREIGN_URL}"></script>`

let dataDir: string | undefined
let server: ServerProcess | undefined
let spaHost: ReturnType<typeof Bun.serve> | undefined
let browser: Browser | undefined

beforeAll(async () => {
  if (!available) return
  // The stand-in's own origin first: the server must be started with it in CORS_ORIGINS.
  spaHost = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request) {
      const { pathname } = new URL(request.url)
      if (pathname === '/')
        return new Response(SPA_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } })
      if (pathname === '/supabase.js') {
        return new Response(Bun.file(SUPABASE_UMD), {
          headers: { 'content-type': 'text/javascript; charset=utf-8' },
        })
      }
      // For the guard's own test: a page whose CSP, like /docs's, refuses a CDN script.
      if (pathname === '/csp') {
        return new Response(FOREIGN_SCRIPT, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': "script-src 'self'",
          },
        })
      }
      return new Response('not found', { status: 404 })
    },
  })
  const spaOrigin = `http://127.0.0.1:${spaHost.port}`
  // Chromium starts while the server does: they do not depend on each other.
  const [launched, started] = await Promise.all([
    launchChromium(),
    preparedDataDir().then((dir) => {
      dataDir = dir
      return startServer({ DATA_DIR: dir, LOG_LEVEL: 'info', CORS_ORIGINS: spaOrigin, ...LOCAL_AUTH })
    }),
  ])
  browser = launched
  server = started
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await browser?.close()
  server?.child.kill('SIGKILL')
  await spaHost?.stop(true)
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

/** A fresh page in its own context whose every request is recorded (and non-local ones aborted). */
async function openPage() {
  if (!browser) throw new Error('no browser')
  const context = await browser.newContext()
  const page = await context.newPage()
  const requests = await recordRequests(page)
  return { page, requests, close: () => context.close() }
}

/** The text of the live response's status cell and body in Swagger UI, once it has one. */
async function executedResponse(operation: Locator) {
  const row = operation.locator('.live-responses-table tbody .response')
  await row.waitFor()
  return {
    status: (await row.locator('.response-col_status').textContent())?.trim(),
    body: (await row.locator('.response-col_description pre').first().textContent()) ?? '',
  }
}

describe.skipIf(!available)('the docs page and the SPA client in headless Chromium', () => {
  test(
    '/docs: Authorize with a bearer token, Try it out → Execute GET /api/v1/auth/me → 200 with the user',
    async () => {
      if (!server) throw new Error('no server')
      const user = await newUser()
      const { page, requests, close } = await openPage()
      try {
        await page.goto(`${server.baseUrl}/docs`)

        await page.locator('.auth-wrapper .btn.authorize').click()
        const dialog = page.locator('.modal-ux')
        await dialog.locator('#auth-bearer-value').first().fill(user.token)
        await dialog.getByRole('button', { name: 'Apply credentials' }).first().click()
        // Swagger UI offers Logout only once it holds the credentials.
        await dialog.getByRole('button', { name: 'Remove authorization' }).first().waitFor()
        await dialog.getByRole('button', { name: 'Close' }).first().click()

        const operation = page.locator('.opblock-get', {
          has: page.locator('.opblock-summary-path[data-path="/api/v1/auth/me"]'),
        })
        await operation.locator('.opblock-summary').first().click()
        // tryItOutEnabled opens the form with the operation, so "Try it out" is there only if not.
        await operation
          .getByRole('button', { name: /^(Try it out|Execute)$/ })
          .first()
          .waitFor()
        const tryItOut = operation.getByRole('button', { name: 'Try it out' })
        if (await tryItOut.isVisible()) await tryItOut.click()
        await operation.getByRole('button', { name: 'Execute' }).click()

        const response = await executedResponse(operation)
        expect(response.status).toBe('200')
        expect(JSON.parse(response.body)).toEqual({ user: { id: user.id, email: user.email, role: 'user' } })
        // Swagger UI's own request, not just the document: the call really went out from the page.
        expect(requests.all).toContain(`${server.baseUrl}/api/v1/auth/me`)
        expect(requests.foreign).toEqual([])
        expect(requests.refused).toEqual([])
      } finally {
        await close()
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  )

  test(
    'an SPA page on another origin: supabase-js bundle signs up on /auth/v1 and calls /api/v1/auth/me through CORS',
    async () => {
      if (!server || !spaHost) throw new Error('no server')
      const { page, requests, close } = await openPage()
      try {
        const spaOrigin = `http://127.0.0.1:${spaHost.port}`
        await page.goto(`${spaOrigin}/?api=${encodeURIComponent(server.baseUrl)}`)
        const result = page.locator('#result[data-done="true"]')
        await result.waitFor()
        const outcome = JSON.parse((await result.textContent()) ?? '') as {
          error?: string
          email: string
          userId: string
          status: number
          body: { user?: unknown }
        }
        expect(outcome.error).toBeUndefined()
        expect(outcome.userId).toBe(localUserId(outcome.email))
        expect(outcome.status).toBe(200)
        expect(outcome.body.user).toEqual({
          id: localUserId(outcome.email),
          email: outcome.email,
          role: 'user',
        })
        // Cross-origin for real: the bundle came from the page's origin, the calls went to the API's.
        expect(requests.all).toContain(`${spaOrigin}/supabase.js`)
        expect(requests.all.some((url) => url.startsWith(`${server?.baseUrl}/auth/v1/signup`))).toBe(true)
        expect(requests.foreign).toEqual([])
        expect(requests.refused).toEqual([])
      } finally {
        await close()
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  )

  test(
    'the request guard itself: a non-local request is caught (and never sent), and so is one a CSP refused',
    async () => {
      if (!spaHost) throw new Error('no server')
      const { page, requests, close } = await openPage()
      try {
        await page.setContent(FOREIGN_SCRIPT)
        expect(requests.foreign).toEqual([FOREIGN_URL])

        // Chromium reports the refusal on its console; wait for it rather than race it.
        const refusal = page.waitForEvent('console', (m) => m.text().includes('Content Security Policy'))
        await page.goto(`http://127.0.0.1:${spaHost.port}/csp`)
        await refusal
        expect(requests.foreign).toEqual([FOREIGN_URL])
        expect(requests.refused).toHaveLength(1)
        expect(requests.refused[0]).toContain(FOREIGN_URL)
      } finally {
        await close()
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  )
})
