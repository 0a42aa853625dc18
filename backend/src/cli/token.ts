import { parseArgs } from 'node:util'
import { z } from 'zod'
import { loadConfig } from '@/config'
import { resolveLocalSecret } from '@/lib/auth/local-secret'
import { localUserId, MAX_LOCAL_TOKEN_LIFETIME_SECONDS, signLocalToken } from '@/lib/auth/local-tokens'

// `bun run token --email <e> [--admin] [--ttl 1h]`: prints a local-mode access token.

const USAGE =
  'Usage: bun run token --email <address> [--admin] [--ttl 1h]   (ttl: 90s, 30m, 12h, 7d; at most 30d)'

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

function parseTtl(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim())
  if (!match) fail(`--ttl "${text}" is not a duration.\n${USAGE}`)
  const seconds =
    Number(match[1]) * { s: 1, m: 60, h: 3_600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd']
  if (seconds < 1 || seconds > MAX_LOCAL_TOKEN_LIFETIME_SECONDS)
    fail(`--ttl must be between 1s and 30d.\n${USAGE}`)
  return seconds
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        email: { type: 'string' },
        admin: { type: 'boolean', default: false },
        ttl: { type: 'string', default: '1h' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    })
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
  }
})()
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const email = z.email().safeParse(values.email)
if (!email.success) fail(`--email must be an email address.\n${USAGE}`)

const parsed = loadConfig(process.env)
if (!parsed.ok) fail(`Invalid configuration:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`)
const config = parsed.config
if (config.authMode === 'supabase') {
  fail(
    'SUPABASE_URL is set, so the server verifies tokens with Supabase Auth and a local token would be refused.\n' +
      'Sign in through Supabase instead (e.g. supabase.auth.signInWithPassword) and use its access_token.',
  )
}
if (config.DATA_DIR === ':memory:' && !config.LOCAL_JWT_SECRET && !config.SUPABASE_JWT_SECRET) {
  fail(
    'DATA_DIR is :memory:, so the server generates a new secret each start. Set LOCAL_JWT_SECRET to share one.',
  )
}

const { secret } = resolveLocalSecret(config.auth)
const token = await signLocalToken(secret, {
  email: email.data,
  admin: values.admin,
  ttlSeconds: parseTtl(values.ttl),
})
console.error(
  `user ${localUserId(email.data)} (${email.data})${values.admin ? ', admin' : ''}, expires in ${values.ttl}`,
)
console.log(token)
