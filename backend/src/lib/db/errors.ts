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
