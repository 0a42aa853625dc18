import { type TestApp, testApp } from '@tests/helpers/app'
import type { ContainerOverrides } from '@/container'

export interface ServedApp extends TestApp {
  url: string
  /** `fetch` against the real socket (so the client address is real). */
  fetch(path: string, init?: RequestInit): Promise<Response>
  stop(): Promise<void>
}

/** A test app behind a real Bun.serve on a loopback port, for what needs the socket's address. */
export async function servedApp(
  env: Record<string, string> = {},
  overrides: Omit<ContainerOverrides, 'db'> = {},
): Promise<ServedApp> {
  const test = await testApp(env, overrides)
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, bunServer) => test.app.fetch(request, { server: bunServer }),
  })
  const url = `http://127.0.0.1:${server.port}`
  return {
    ...test,
    url,
    fetch: (path, init) => fetch(`${url}${path}`, init),
    async stop() {
      await server.stop(true)
      await test.services.close()
    },
  }
}
