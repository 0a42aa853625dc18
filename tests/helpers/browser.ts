import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's `chromium` (`.ci/run` installs it): playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

// What Chromium needs on these machines (root, no GPU, no display), plus everything that would
// make it call Google on its own: a test that forbids non-local requests must not be lied to
// by the browser's own background traffic, which no page-level route would ever see.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Fails the run under CI (where `.ci/run` installs Chromium) instead of skipping quietly. */
export function requireChromiumInCi(): boolean {
  const available = existsSync(CHROMIUM_PATH)
  if (!available && process.env.CI === 'true') {
    throw new Error(`CI needs ${CHROMIUM_PATH} (.ci/run installs Debian's chromium package)`)
  }
  if (!available) console.warn(`skipping browser tests: no ${CHROMIUM_PATH} (apt-get install chromium)`)
  return available
}

/**
 * Headless Chromium. `launch()` (not a persistent context) gives every run a new, empty
 * temporary profile (its own `--user-data-dir`) that Playwright deletes on `close()`.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** True for a URL on this machine's loopback, or one that needs no network (`data:`, `blob:`). */
export function isLocalUrl(raw: string): boolean {
  const url = new URL(raw)
  if (url.protocol === 'data:' || url.protocol === 'blob:' || url.href === 'about:blank') return true
  return LOCAL_HOSTS.has(url.hostname)
}

export interface RequestLog {
  /** Every URL the page asked for, in order. */
  all: string[]
  /** Those that are not local; each was aborted instead of sent. */
  foreign: string[]
  /**
   * What the page's Content-Security-Policy refused to load, as Chromium reports it: such a
   * load never becomes a request, so without this a CSP would hide a page's attempt to reach
   * a CDN from the check above.
   */
  refused: string[]
}

/**
 * Routes every request of `page` through Playwright and records it: local ones go on, anything
 * else is aborted (so a test never reaches the internet) and listed in `foreign` for the test
 * to fail on. WebSockets are not routed by `page.route`, so they are recorded from their event;
 * CSP refusals never reach the network, so they are recorded from Chromium's console.
 */
export async function recordRequests(page: Page): Promise<RequestLog> {
  const log: RequestLog = { all: [], foreign: [], refused: [] }
  const note = (url: string) => {
    log.all.push(url)
    const local = isLocalUrl(url)
    if (!local) log.foreign.push(url)
    return local
  }
  await page.route(
    () => true,
    (route) => (note(route.request().url()) ? route.continue() : route.abort()),
  )
  page.on('websocket', (socket) => note(socket.url()))
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
      log.refused.push(message.text())
    }
  })
  return log
}
