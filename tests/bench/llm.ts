import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeAnthropic } from '@tests/fakes/anthropic'
import { FakeOpenAI } from '@tests/fakes/openai'
import { spawnBenchServer } from '@tests/helpers/bench-server'
import { createParser } from 'eventsource-parser'
import { signLocalToken } from '@/lib/auth/local-tokens'
import { AnthropicProvider } from '@/lib/llm/providers/anthropic/chat'
import { OpenAIProvider } from '@/lib/llm/providers/openai/chat'
import { LlmRouter } from '@/lib/llm/router'
import type { ChatRequest } from '@/lib/llm/types'
import { createLogger } from '@/lib/log'

/**
 * bun run bench llm
 *
 * (a) The router's added latency when the primary's breaker is open, against calling the
 *     fallback provider directly (same fake, same request), alternating, in one run.
 * (b) SSE time to first byte / first delta through the API (real server process, OpenAI fake as
 *     its provider) against streaming straight from the fake with the SDK.
 */
const ROUNDS = 200
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}
const never = new AbortController().signal
const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello' }], maxOutputTokens: 64 }

const openai = new FakeOpenAI().start()
const anthropic = new FakeAnthropic().start()
try {
  // (a)
  const fallback = new AnthropicProvider({
    apiKey: anthropic.apiKey,
    baseURL: anthropic.baseURL,
    models: ['claude-x'],
    timeoutMs: 5_000,
  })
  const router = new LlmRouter(
    [
      new OpenAIProvider({
        apiKey: openai.apiKey,
        baseURL: openai.baseURL,
        models: ['gpt-x'],
        timeoutMs: 5_000,
      }),
      fallback,
    ],
    { errorThresholdPercent: 50, volumeThreshold: 1, resetTimeoutMs: 600_000 },
    { timeoutMs: 5_000, firstTokenTimeoutMs: 5_000, retryAfterCapMs: 0 },
    createLogger('silent'),
  )
  openai.failWith = 500
  await router.complete(request, never) // opens the primary's breaker
  const routed: number[] = []
  const direct: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    let t0 = performance.now()
    await router.complete(request, never)
    routed.push(performance.now() - t0)
    t0 = performance.now()
    await fallback.complete('claude-x', request, never)
    direct.push(performance.now() - t0)
  }
  console.log(`(a) primary breaker open: ${ROUNDS} alternating calls`)
  console.log(
    `  through the router (skips the open breaker): p50 ${percentile(routed, 50).toFixed(3)} ms  p99 ${percentile(routed, 99).toFixed(3)} ms`,
  )
  console.log(
    `  fallback called directly:                    p50 ${percentile(direct, 50).toFixed(3)} ms  p99 ${percentile(direct, 99).toFixed(3)} ms`,
  )
  console.log(
    `  added by the router at p50: ${(percentile(routed, 50) - percentile(direct, 50)).toFixed(3)} ms`,
  )
  openai.failWith = null

  // (b)
  const dataDir = mkdtempSync(join(tmpdir(), 'pilar-bench-llm-'))
  const secret = 'bench-local-secret-0123456789-abcdefgh'
  const server = await spawnBenchServer({
    DATA_DIR: dataDir,
    LOCAL_JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.baseURL,
    EMBEDDINGS_PROVIDER: 'local',
  })
  try {
    const token = await signLocalToken(secret, { email: 'bench@example.test', ttlSeconds: 3_600 })
    const viaApi = async () => {
      const t0 = performance.now()
      const response = await fetch(`${server.base}/api/v1/ai/chat`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ message: 'Hello coach' }),
      })
      const reader = response.body?.getReader()
      let firstByte = 0
      let firstDelta = 0
      const parser = createParser({
        onEvent: (event) => {
          if (event.event === 'delta' && !firstDelta) firstDelta = performance.now() - t0
        },
      })
      const decoder = new TextDecoder()
      for (;;) {
        const { done, value } = (await reader?.read()) ?? { done: true, value: undefined }
        if (done) break
        if (!firstByte) firstByte = performance.now() - t0
        parser.feed(decoder.decode(value, { stream: true }))
      }
      return { firstByte, firstDelta }
    }
    const sdk = new OpenAIProvider({
      apiKey: openai.apiKey,
      baseURL: openai.baseURL,
      models: ['gpt-x'],
      timeoutMs: 5_000,
    })
    const direct = async () => {
      const t0 = performance.now()
      let first = 0
      for await (const chunk of sdk.stream('gpt-x', request, never)) {
        if (chunk.type === 'delta' && !first) first = performance.now() - t0
      }
      return first
    }
    await viaApi()
    await direct()
    const apiBytes: number[] = []
    const apiDeltas: number[] = []
    const directDeltas: number[] = []
    for (let i = 0; i < 50; i++) {
      const api = await viaApi()
      apiBytes.push(api.firstByte)
      apiDeltas.push(api.firstDelta)
      directDeltas.push(await direct())
    }
    console.log('(b) SSE time to first token, 50 alternating requests (fake OpenAI, no model latency)')
    console.log(
      `  through the API: first byte p50 ${percentile(apiBytes, 50).toFixed(2)} ms, first delta p50 ${percentile(apiDeltas, 50).toFixed(2)} ms  p99 ${percentile(apiDeltas, 99).toFixed(2)} ms`,
    )
    console.log(
      `  straight from the fake with the SDK: first delta p50 ${percentile(directDeltas, 50).toFixed(2)} ms  p99 ${percentile(directDeltas, 99).toFixed(2)} ms`,
    )
  } finally {
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
} finally {
  await openai.stop()
  await anthropic.stop()
}
