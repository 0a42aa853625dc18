import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { DB_SETUP_TIMEOUT_MS, freshPglite } from '@tests/helpers/db'
import { freePort } from '@tests/helpers/ports'
import { type ServerProcess, startServer } from '@tests/helpers/server-process'

// WORKERS=N as an operator runs it: real processes sharing one port, real signals. The shared
// database is a PGlite (with pgvector) served over the Postgres wire protocol on loopback.
let pglite: PGlite
let socketServer: PGLiteSocketServer
let databaseUrl: string

beforeAll(async () => {
  pglite = await freshPglite()
  const port = freePort()
  socketServer = new PGLiteSocketServer({ db: pglite, port, host: '127.0.0.1', maxConnections: 50 })
  await socketServer.start()
  databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`
}, DB_SETUP_TIMEOUT_MS)

afterAll(async () => {
  await socketServer?.stop()
  await pglite?.close()
})

const listening = (server: ServerProcess) => server.logs.filter((l) => l.msg === 'listening')

describe('WORKERS', () => {
  test('with the embedded database it refuses to start and points to DATABASE_URL', async () => {
    const child = Bun.spawn(['bun', 'backend/src/index.ts'], {
      env: { PATH: process.env.PATH ?? '', WORKERS: '2', DATA_DIR: ':memory:', PORT: String(freePort()) },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await child.exited).toBe(1)
    const stderr = await new Response(child.stderr).text()
    expect(stderr).toContain('WORKERS > 1 needs DATABASE_URL')
    expect(stderr).toContain('one writer')
  })

  test('N processes share the port, a crashed worker is replaced, SIGTERM drains them all', async () => {
    const server = await startServer(
      // Prepared statements off, as behind Supabase's pooler (pglite-socket needs it too).
      { WORKERS: '2', DATABASE_URL: databaseUrl, DATABASE_PREPARE: 'false', DATABASE_POOL_MAX: '3' },
      60_000,
    )
    await server.waitForLog(() => listening(server).length >= 2, 60_000)
    const workerPids = new Set(listening(server).map((l) => l.pid))
    expect(workerPids.size).toBe(2)
    expect(workerPids.has(server.child.pid)).toBe(false)

    // New connection per request, so the kernel spreads them over both listeners.
    const served = async (count: number) => {
      const before = server.logs.length
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${server.baseUrl}/api/v1/rag/connections`, {
          headers: { connection: 'close' },
        })
        expect(res.status).toBe(200)
      }
      await Bun.sleep(100)
      return new Set(
        server.logs
          .slice(before)
          .filter((l) => l.route === '/api/v1/rag/connections')
          .map((l) => l.pid),
      )
    }
    expect((await served(60)).size).toBe(2)

    // One worker dies: the primary starts a replacement, and requests keep being answered.
    const victim = [...workerPids][0] as number
    process.kill(victim, 'SIGKILL')
    await server.waitForLog((l) => l.msg === 'worker exited unexpectedly: restarting it', 10_000)
    await server.waitForLog(() => listening(server).length >= 3, 30_000)
    const afterCrash = await served(60)
    expect(afterCrash.has(victim)).toBe(false)
    expect(afterCrash.size).toBe(2)

    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.logs.filter((l) => l.msg === 'worker stopped' && l.code === 0)).toHaveLength(2)
    expect(server.logs.filter((l) => l.msg === 'stopped')).toHaveLength(2)
    // No worker outlives the primary.
    for (const l of listening(server)) {
      expect(() => process.kill(l.pid as number, 0)).toThrow()
    }
  }, 120_000)
})
