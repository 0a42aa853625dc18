import pino from 'pino'

export type Logger = pino.Logger
export type LogLevel = pino.LevelWithSilent

/** Keys whose values never reach a log line: at the top level of a line and one level down. */
const CREDENTIALS = new Set(['authorization', 'token', 'password'])
const CENSOR = '[redacted]'

/**
 * Structured JSON logs on stdout, one object per line. Credentials are censored by key as a
 * second line of defence (see `censorCredentials`): code must never log a token in the first place.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }), log: censorCredentials },
      serializers: { err: serializeError },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  )
}

/**
 * A log line's object with every credential key (`CREDENTIALS`) at its top level or one level
 * down replaced by `[redacted]`; the object itself when it holds none — copies are made only
 * where something is censored, so the caller's objects are never changed. `err` is left to
 * `serializeError`, which censors the serialized error (an Error copied here would lose its
 * message and stack).
 *
 * Why not pino's `redact` option: with a wildcard path (`*.token`) it runs its redactor on every
 * value of every line, strings included, parsing each path again each time — measured at ≈ 7 %
 * of the server's CPU under load, ≈ 0.5 µs per logged field (docs/decisions.md).
 */
export function censorCredentials(line: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined
  for (const key in line) {
    const value = line[key]
    let replacement: unknown = value
    if (CREDENTIALS.has(key)) replacement = CENSOR
    else if (key !== 'err' && typeof value === 'object' && value !== null) replacement = censorOneLevel(value)
    if (replacement !== value) {
      out ??= { ...line }
      out[key] = replacement
    }
  }
  return out ?? line
}

/** `value` with its own credential keys censored (a plain copy), or `value` itself when it has none. */
function censorOneLevel(value: object): unknown {
  if (Array.isArray(value)) return value
  let out: Record<string, unknown> | undefined
  for (const key of Object.keys(value)) {
    if (!CREDENTIALS.has(key)) continue
    out ??= { ...value }
    out[key] = CENSOR
  }
  return out ?? value
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
  // The serialized error is pino's own copy: censored in place, like any other field.
  for (const key of CREDENTIALS) if (key in serialized) serialized[key] = CENSOR
  return serialized
}

/** A short, stable, non-reversible tag for a user id, so logs and traces can correlate users. */
export function hashUserId(userId: string): string {
  return new Bun.CryptoHasher('sha256').update(`pilar-user:${userId}`).digest('hex').slice(0, 16)
}
