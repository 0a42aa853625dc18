import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'
import { DatabaseUnavailableError, isDatabaseUnavailable } from '@/lib/db/errors'
import { ApiError, errorBody } from '@/lib/errors/api-error'
import { CodedError } from '@/lib/errors/coded'
import { codeForStatus } from '@/lib/errors/codes'
import type { HttpEnv } from '@/lib/http/context'

/**
 * Any error as the ApiError a client sees — the one mapping, used by `app.onError` and by a
 * stream's `error` event alike. Ours carry their code (CodedError: domain, unavailable,
 * upstream); what is not ours and not known is INTERNAL, whose message reveals nothing.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const coded =
    err instanceof CodedError
      ? err
      : isDatabaseUnavailable(err)
        ? new DatabaseUnavailableError(err)
        : undefined
  if (coded) {
    const { message, details, retryAfterSeconds } = coded.exposed
    return new ApiError(coded.code, {
      message,
      details,
      headers: retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
      cause: err,
    })
  }
  if (err instanceof HTTPException) {
    // Hono's JSON validator says this when a route that needs a body got none.
    if (err.status === 400 && err.message.startsWith('Malformed JSON')) return new ApiError('INVALID_JSON')
    return new ApiError(codeForStatus(err.status))
  }
  return new ApiError('INTERNAL', { cause: err })
}

function respond<E extends HttpEnv>(c: Context<E>, error: ApiError) {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  return c.json(errorBody(error, c.get('requestId') ?? 'unknown'), error.status as ContentfulStatusCode)
}

/** How far down a `cause` chain an abort's reason is looked for. */
const CAUSE_DEPTH = 5

/**
 * Whether `err` is the request's own abort (the client hung up), not just an error that
 * happened after it did: the signal's reason itself, or an error whose `cause` chain leads to
 * it — the AbortError `node:timers/promises` and similar APIs throw (`cause: signal.reason`),
 * an SDK's `APIUserAbortError` where it sets the caller signal's reason as `cause` (OpenAI's
 * does on some paths), a wrapper of any of them. `fetch` and `AbortSignal.any` rethrow the
 * reason itself, and the LLM providers and router turn any SDK abort into the caller signal's
 * reason (`providerFailure`, `CallerAborted`), so a cause-less `APIUserAbortError` (Anthropic's,
 * OpenAI's usual one) does not get here. An AbortError or TimeoutError
 * by name alone is not enough: our own `AbortSignal.timeout` or controller firing after the
 * client left is a real failure, and a bug must not hide behind a disconnect.
 */
export function isClientAbort(err: unknown, signal: AbortSignal): boolean {
  if (!signal.aborted) return false
  let cause: unknown = err
  for (let depth = 0; depth < CAUSE_DEPTH && cause !== undefined; depth++) {
    if (cause === signal.reason) return true
    cause = cause instanceof Error ? cause.cause : undefined
  }
  return false
}

/**
 * `app.onError`: the error as its ApiError. What is not ours (a bug, or the database gone) is
 * logged with the request id and answered without a stack trace or a raw database message.
 */
export function handleError<E extends HttpEnv>(err: Error, c: Context<E>) {
  const error = toApiError(err)
  if (error.code !== 'INTERNAL' && !(err instanceof DatabaseUnavailableError || isDatabaseUnavailable(err))) {
    return respond(c, error)
  }
  const logger = c.get('http')?.logger
  // The client hung up first (its abort cancelled our upstream work): nobody will read an
  // answer, and nothing failed on our side. 499 is the de-facto "client closed request".
  if (isClientAbort(err, c.req.raw.signal)) {
    logger?.info({ request_id: c.get('requestId'), err }, 'client closed the request')
    // Through the context, like every answer: it keeps the headers written before the handler.
    // (499 is no status Hono's types list.)
    return c.body(null, 499 as StatusCode)
  }
  logger?.error(
    { request_id: c.get('requestId'), err },
    error.code === 'INTERNAL' ? 'unhandled error' : 'database unavailable',
  )
  return respond(c, error)
}

/** `app.notFound`: unknown routes get the same error body as everything else. */
export function handleNotFound<E extends HttpEnv>(c: Context<E>) {
  return respond(c, new ApiError('NOT_FOUND', { message: `No route for ${c.req.method} ${c.req.path}` }))
}

/** One entry of a VALIDATION_ERROR's `details`. */
export interface FieldIssue {
  /** Where the problem is: `body.answer`, `query.limit`, `path.id`. */
  field: string
  message: string
}

// Hono's validator targets, named as a client thinks of them.
const TARGET_NAMES: Record<string, string> = { json: 'body', param: 'path', query: 'query', header: 'header' }

/** Turns a zod failure into the VALIDATION_ERROR that every schema failure becomes. */
export function validationError(error: z.ZodError, target: string): ApiError {
  const details: FieldIssue[] = error.issues.map((issue) => ({
    field: [TARGET_NAMES[target] ?? target, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }))
  return new ApiError('VALIDATION_ERROR', { message: 'The request is not valid', details })
}
