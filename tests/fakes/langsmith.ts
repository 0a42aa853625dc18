import type { Server } from 'bun'

/** A LangSmith API stand-in: records every run the SDK posts (`POST /runs`), answers 200 to the rest. */
export class FakeLangSmith {
  runs: Record<string, unknown>[] = []
  #server: Server<undefined> | undefined

  get url(): string {
    return `http://127.0.0.1:${this.#server?.port}`
  }

  start(): this {
    this.#server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (request) => {
        const url = new URL(request.url)
        if (request.method === 'POST' && url.pathname.endsWith('/runs')) {
          this.runs.push((await request.json()) as Record<string, unknown>)
        }
        return Response.json({})
      },
    })
    return this
  }

  async stop(): Promise<void> {
    await this.#server?.stop(true)
  }
}
