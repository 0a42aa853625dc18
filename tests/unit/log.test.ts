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

  test("a child logger's bindings and objects interpolated into the message are censored too", () => {
    const { logger, lines } = capture()
    logger.child({ password: 'child-pw', headers: { authorization: 'Bearer child' } }).info('bound')
    logger.info('as %o', { token: 'interpolated-o', kept: 1 })
    logger.info({ a: 1 }, 'as %j', { password: 'interpolated-j' })
    expect(lines[0]).toMatchObject({ password: '[redacted]', headers: { authorization: '[redacted]' } })
    expect(lines[1]?.msg).toContain('[redacted]')
    expect(lines[2]?.msg).toContain('[redacted]')
    expect(JSON.stringify(lines)).not.toMatch(/child-pw|Bearer child|interpolated/)
  })

  test('a value is judged by what it writes: a Headers object, a class with toJSON', () => {
    const { logger, lines } = capture()
    class Account {
      password = 'class-pw'
      apiKey = 'hidden-by-toJSON'
      toJSON() {
        return { kind: 'account', token: 'from-toJSON' }
      }
    }
    logger.info({
      headers: new Headers({ authorization: 'Bearer in-headers', accept: 'json' }),
      account: new Account(),
    })
    expect(lines[0]).toMatchObject({
      headers: { authorization: '[redacted]', accept: 'json' },
      account: { kind: 'account', token: '[redacted]' },
    })
    expect(JSON.stringify(lines)).not.toMatch(/in-headers|class-pw|hidden-by-toJSON|from-toJSON/)
  })

  test('err that is not an Error: written, never thrown, never changed in place', () => {
    const { logger, lines } = capture()
    const plain = { token: 'plain', params: ['secret-param'], code: 'X' }
    const frozen = Object.freeze({ password: 'frozen-pw' })
    expect(() => {
      logger.warn({ err: 'boom' }, 'a string')
      logger.warn({ err: 42 }, 'a number')
      logger.warn({ err: null }, 'null')
      logger.warn({ err: plain }, 'an object')
      logger.warn({ err: frozen }, 'a frozen object')
    }).not.toThrow()
    expect(lines.map((line) => line.err)).toEqual([
      'boom',
      42,
      null,
      { token: '[redacted]', code: 'X' },
      { password: '[redacted]' },
    ])
    expect(plain).toEqual({ token: 'plain', params: ['secret-param'], code: 'X' })
  })
})
