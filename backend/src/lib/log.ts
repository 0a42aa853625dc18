import pino from 'pino'

export type Logger = pino.Logger
export type LogLevel = pino.LevelWithSilent

/** Keys whose values never reach a log line: at the top level of a line and one level down. */
const CREDENTIALS = new Set(['authorization', 'token', 'password'])
const CENSOR = '[redacted]'
// What pino's error serializer leaves in place that may carry the failed statement (below).
const STATEMENT_KEYS = ['params', 'parameters', 'query', 'queryOptions']

/**
 * Structured JSON logs on stdout, one object per line. Credentials are censored by key as a
 * second line of defence (see `censorCredentials`): code must never log a token in the first
 * place. Censored: each line's fields, a child logger's bindings, and objects interpolated into
 * the message (`%o`, `%O`, `%j`).
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }), log: censorCredentials },
      hooks: { logMethod: censorInterpolated },
      serializers: { err: serializeError },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  )
  // pino gives a child's bindings no formatter (its `bindings` formatter is for `base` only), so
  // they are censored on the way in; children are made from their parent and inherit this.
  const child: (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger =
    logger.child
  logger.child = function censoredChild(
    this: Logger,
    bindings: pino.Bindings,
    options?: pino.ChildLoggerOptions,
  ) {
    return child.call(this, censorCredentials(bindings), options)
  } as unknown as Logger['child']
  return logger
}

/**
 * A log line's object with every credential key (`CREDENTIALS`) at its top level or one level
 * down replaced by `[redacted]`; the object itself when it holds none — copies are made only
 * where something is censored, so the caller's objects are never changed. `err` is left to
 * `serializeError`, which censors the serialized error (an Error copied here would lose its
 * message and stack).
 *
 * Why not pino's `redact` option: with a wildcard path (`*.token`) it runs its redactor on every
 * value of every line, strings included, parsing each path again each time — ≈ 7.5 % of the
 * server's CPU samples in a profile under wrk (docs/decisions.md).
 */
export function censorCredentials(line: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined
  for (const key in line) {
    let replacement: unknown
    if (CREDENTIALS.has(key)) replacement = CENSOR
    else {
      // Only objects are compared (below). Comparing every value, which are numbers, strings
      // and booleans in turn, kept the JIT's optimized code of this function exiting to the
      // slow tier (a double `duration_ms` where it had speculated otherwise): 31,000–42,000
      // exits in 8 s of load in each of three server processes, none since
      // (BUN_JSC_printEachOSRExit=1).
      const value = line[key]
      if (key === 'err' || typeof value !== 'object' || value === null) continue
      replacement = censorOneLevel(value)
      if (replacement === value) continue
    }
    out ??= { ...line }
    out[key] = replacement
  }
  return out ?? line
}

/**
 * `value` as it will be written, with its own credential keys censored (a plain copy), or
 * `value` itself when it has none. A value with `toJSON` (a `Headers` object, a class that hides
 * fields) is judged by what `toJSON` gives, since that is what the line will hold.
 */
function censorOneLevel(value: object): unknown {
  if (Array.isArray(value)) return value
  const written: unknown =
    typeof (value as { toJSON?: unknown }).toJSON === 'function' ? safeToJson(value) : value
  if (typeof written !== 'object' || written === null || Array.isArray(written)) return value
  let out: Record<string, unknown> | undefined
  for (const key of Object.keys(written)) {
    if (!CREDENTIALS.has(key)) continue
    out ??= { ...written }
    out[key] = CENSOR
  }
  return out ?? value
}

/** `toJSON()` of `value`, or `value` itself when that throws (then stringify will say so). */
function safeToJson(value: object): unknown {
  try {
    return (value as { toJSON: () => unknown }).toJSON()
  } catch {
    return value
  }
}

/**
 * pino's `logMethod` hook: objects interpolated into the message (`log.info('%o', obj)`, the
 * arguments after the first) are censored like a line's fields; the first argument, a line's
 * object, is left to `censorCredentials`. Most calls pass one or two arguments.
 */
function censorInterpolated(this: pino.Logger, args: unknown[], method: (...args: unknown[]) => void) {
  for (let i = 1; i < args.length; i++) {
    const value = args[i]
    if (typeof value === 'object' && value !== null) {
      args[i] = censorCredentials(value as Record<string, unknown>)
    }
  }
  return method.apply(this, args)
}

/**
 * pino's error serializer copies every enumerable property, and database drivers attach the
 * failed statement's `params` (user ids, emails, claims) and text to their errors: drop them,
 * and censor credential keys. A value that is not error-like comes back from pino as itself: it
 * is copied before anything is dropped, so the caller's object is never changed.
 */
function serializeError(error: unknown) {
  const serialized: unknown = pino.stdSerializers.err(error as Error)
  if (typeof serialized !== 'object' || serialized === null) return serialized
  const out = withoutSecrets(serialized as Record<string, unknown>, serialized === error)
  const cause = out.cause
  if (typeof cause === 'object' && cause !== null) {
    out.cause = withoutSecrets(
      cause as Record<string, unknown>,
      cause === (error as { cause?: unknown }).cause,
    )
  }
  return out
}

/** `fields` without the statement keys and with credentials censored; copied first when `shared`. */
function withoutSecrets(fields: Record<string, unknown>, shared: boolean): Record<string, unknown> {
  const out = shared ? { ...fields } : fields
  for (const key of STATEMENT_KEYS) delete out[key]
  for (const key of CREDENTIALS) if (key in out) out[key] = CENSOR
  return out
}

/** A short, stable, non-reversible tag for a user id, so logs and traces can correlate users. */
export function hashUserId(userId: string): string {
  return new Bun.CryptoHasher('sha256').update(`pilar-user:${userId}`).digest('hex').slice(0, 16)
}
