import pino from 'pino'

export type Logger = pino.Logger
export type LogLevel = pino.LevelWithSilent

/**
 * Structured JSON logs on stdout, one object per line. Credentials are redacted by path as a
 * second line of defence: code must never log a token in the first place.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
      redact: {
        paths: ['authorization', 'headers.authorization', 'token', '*.token', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  )
}

/**
 * pino's error serializer copies every enumerable property, and database drivers attach the
 * failed statement's `params` (user ids, emails, claims) and text to their errors: drop them.
 */
function serializeError(error: Error) {
  const serialized = pino.stdSerializers.err(error) as Record<string, unknown>
  for (const key of ['params', 'parameters', 'query', 'queryOptions']) delete serialized[key]
  if (serialized.cause && typeof serialized.cause === 'object') {
    for (const key of ['params', 'parameters', 'query', 'queryOptions'])
      delete (serialized.cause as Record<string, unknown>)[key]
  }
  return serialized
}

/** A short, stable, non-reversible tag for a user id, so logs and traces can correlate users. */
export function hashUserId(userId: string): string {
  return new Bun.CryptoHasher('sha256').update(`pilar-user:${userId}`).digest('hex').slice(0, 16)
}
