import { UnavailableError } from '@/lib/errors/unavailable'

/**
 * Postgres failures that mean "the database cannot be reached" rather than "this query is
 * wrong". Anything in this list becomes a 503 DATABASE_UNAVAILABLE; any other database error is
 * a bug (500) whose raw message is logged and never sent to the client.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  // Bun.sql's code for a refused connection and an unresolvable host alike.
  'ERR_POSTGRES_CONNECTION_REFUSED',
  'ERR_POSTGRES_CONNECTION_CLOSED',
  'ERR_POSTGRES_CONNECTION_TIMEOUT',
  'ERR_POSTGRES_IDLE_TIMEOUT',
  'ERR_POSTGRES_LIFETIME_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '53300', // too_many_connections
])

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  return (
    (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) ||
    (typeof errno === 'string' && UNAVAILABLE_CODES.has(errno))
  )
}

/** The SQLSTATE of a Postgres error from either adapter, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
  if (typeof errno === 'string' && /^[0-9A-Z]{5}$/.test(errno)) return errno
  return undefined
}

/** The database could not be reached (see `isDatabaseUnavailable`): a 503, not a bug. */
export class DatabaseUnavailableError extends UnavailableError {
  constructor(cause: unknown) {
    super('DATABASE_UNAVAILABLE', 'database unavailable', 5, { cause })
    this.name = 'DatabaseUnavailableError'
  }
}

/**
 * DATABASE_URL names a server that cannot be reached at start-up. The message names the host
 * and port (never the credentials) and what to try, so it can be shown without a stack trace.
 */
export class DatabaseUnreachableError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    /** The driver's error code, e.g. ERR_POSTGRES_CONNECTION_REFUSED. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach the database at ${host}:${port} (${reason}). Is Postgres running there and is ` +
        'DATABASE_URL right? For `supabase start` it is ' +
        'postgresql://postgres:postgres@127.0.0.1:54322/postgres; unset DATABASE_URL to use the ' +
        'embedded database under DATA_DIR instead.',
      options,
    )
    this.name = 'DatabaseUnreachableError'
  }

  static from(url: string, cause: unknown): DatabaseUnreachableError {
    const { host, port } = postgresTarget(url)
    const { code, errno } = (cause ?? {}) as { code?: unknown; errno?: unknown }
    const reason = typeof code === 'string' ? code : typeof errno === 'string' ? errno : 'no connection'
    return new DatabaseUnreachableError(host, port, reason, { cause })
  }
}

/** Host and port of a Postgres URL (the port defaults to 5432): what logs may show of it. */
export function postgresTarget(url: string): { host: string; port: number } {
  try {
    const parsed = new URL(url)
    return { host: parsed.hostname || 'localhost', port: parsed.port ? Number(parsed.port) : 5432 }
  } catch {
    return { host: '(unparsable DATABASE_URL)', port: 5432 }
  }
}
