import { Writable } from 'node:stream'
import { sharedDatabase } from '@tests/helpers/db'
import { newApp } from '@/app'
import { type Config, loadConfig } from '@/config'
import { buildContainer, type Container, type ContainerOverrides } from '@/container'
import { createLogger } from '@/lib/log'

/**
 * Rate limits high enough that ordinary tests never meet them (they all share one in-process
 * "address"); the rate-limit tests set their own.
 */
export const GENEROUS_LIMITS = {
  RATE_LIMIT_API: '1000000',
  RATE_LIMIT_ANON: '1000000',
  RATE_LIMIT_AI: '1000000',
  RATE_LIMIT_AUTH_FAILURES: '1000000',
  RATE_LIMIT_INGEST: '1000000',
  RATE_LIMIT_EVENTS: '1000000',
}

/** A config for tests: in-memory database, silent unless a test captures the log. */
export function testConfig(env: Record<string, string> = {}): Config {
  const result = loadConfig({
    DATA_DIR: ':memory:',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    ...GENEROUS_LIMITS,
    ...env,
  })
  if (!result.ok) throw new Error(`test config invalid: ${result.problems.join('; ')}`)
  return result.config
}

/** Every JSON line the app logged, parsed. */
export type LogLines = Record<string, unknown>[]

export interface TestApp {
  app: ReturnType<typeof newApp>
  services: Container
  logs: LogLines
  /** `app.request` with the path resolved against a fake origin. */
  request(path: string, init?: RequestInit): Promise<Response>
}

/** The real app over the shared PGlite, with its log captured in memory. */
export async function testApp(
  env: Record<string, string> = {},
  overrides: Omit<ContainerOverrides, 'db'> = {},
): Promise<TestApp> {
  const { db } = await sharedDatabase()
  const logs: LogLines = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      done()
    },
  })
  const config = testConfig(env)
  const services = await buildContainer(config, createLogger(config.LOG_LEVEL, sink), { ...overrides, db })
  const app = newApp(services)
  return {
    app,
    services,
    logs,
    request: (path, init) => Promise.resolve(app.request(`http://pilar.test${path}`, init)),
  }
}
