import { describe, expect, test } from 'bun:test'
import { censorCredentials, createLogger } from '@/lib/log'

/** A logger at `info` whose lines are parsed into `lines`. */
function capture() {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) })
  return { logger, lines }
}

describe('log lines censor credentials', () => {
  test('at the top level and one level down, in every field named authorization, token or password', () => {
    const { logger, lines } = capture()
    logger.info(
      {
        authorization: 'Bearer top',
        token: 'tok',
        password: 'pw',
        headers: { authorization: 'Bearer nested', accept: 'json' },
        body: { token: 'nested-token', name: 'kept' },
        account: { password: 'nested-pw', email: 'a@example.test' },
      },
      'credentials',
    )
    const [line] = lines
    expect(line).toMatchObject({
      authorization: '[redacted]',
      token: '[redacted]',
      password: '[redacted]',
      headers: { authorization: '[redacted]', accept: 'json' },
      body: { token: '[redacted]', name: 'kept' },
      account: { password: '[redacted]', email: 'a@example.test' },
      msg: 'credentials',
    })
    expect(JSON.stringify(lines)).not.toMatch(/Bearer|tok"|pw"|nested/)
  })

  test("the caller's objects are left as they were", () => {
    const { logger } = capture()
    const headers = { authorization: 'Bearer x' }
    const line = { token: 't', headers }
    logger.info(line)
    expect(line).toEqual({ token: 't', headers: { authorization: 'Bearer x' } })
    expect(line.headers).toBe(headers)
  })

  test('an error keeps its message and stack, and loses a credential property', () => {
    const { logger, lines } = capture()
    const error = Object.assign(new Error('upstream refused'), { token: 'leaked', status: 401 })
    logger.error({ err: error }, 'failed')
    const err = lines[0]?.err as Record<string, unknown>
    expect(err).toMatchObject({ message: 'upstream refused', token: '[redacted]', status: 401 })
    expect(String(err.stack)).toContain('upstream refused')
    expect(error.token).toBe('leaked')
  })

  test('a line with no credential is passed through as it is, not copied', () => {
    const line = {
      request_id: 'r',
      method: 'GET',
      route: '/health',
      status: 200,
      user: 'abc',
      nested: { a: 1 },
    }
    expect(censorCredentials(line)).toBe(line)
    const { logger, lines } = capture()
    logger.info(line, 'request')
    expect(lines[0]).toMatchObject(line)
  })
})
