import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'
import { isDatabaseUnavailable } from '@/lib/db/errors'
import { ApiError, errorBody } from '@/lib/errors/api-error'
import { codeForStatus } from '@/lib/errors/codes'
import { DOMAIN_ERROR_CODES, DomainError } from '@/lib/errors/domain'
import type { AppEnv } from '@/lib/http/context'
import { LlmTimeoutError, LlmUnavailableError, ProviderError } from '@/lib/llm/errors'
import { EmbedderUnavailableError } from '@/lib/rag/embedder'

function respond(c: Context<AppEnv>, error: ApiError) {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  return c.json(errorBody(error, c.get('requestId') ?? 'unknown'), error.status as ContentfulStatusCode)
}

/**
 * `app.onError`: three branches — ours (ApiError, and DomainError from services), Hono's
 * HTTPException, anything else (a bug: logged with the request id, answered 500 without a
 * stack trace or a raw database message).
 */
export function handleError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) return respond(c, err)
  if (err instanceof DomainError) {
    return respond(
      c,
      new ApiError(DOMAIN_ERROR_CODES[err.kind], { message: err.message, details: err.details }),
    )
  }
  const upstream = upstreamError(err)
  if (upstream) return respond(c, upstream)
  if (err instanceof HTTPException) {
    // Hono's JSON validator says this when a route that needs a body got none.
    if (err.status === 400 && err.message.startsWith('Malformed JSON'))
      return respond(c, new ApiError('INVALID_JSON'))
    return respond(c, new ApiError(codeForStatus(err.status)))
  }
  const logger = c.get('services')?.logger
  // The client hung up first (its abort cancelled our upstream work): nobody will read an
  // answer, and nothing failed on our side. 499 is the de-facto "client closed request".
  if (c.req.raw.signal.aborted) {
    logger?.info({ request_id: c.get('requestId'), err }, 'client closed the request')
    return new Response(null, { status: 499 })
  }
  if (isDatabaseUnavailable(err)) {
    logger?.error({ request_id: c.get('requestId'), err }, 'database unavailable')
    return respond(c, new ApiError('DATABASE_UNAVAILABLE', { headers: { 'Retry-After': '5' } }))
  }
  logger?.error({ request_id: c.get('requestId'), err }, 'unhandled error')
  return respond(c, new ApiError('INTERNAL'))
}

/** `app.notFound`: unknown routes get the same error body as everything else. */
export function handleNotFound(c: Context<AppEnv>) {
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

/** Any known error as the ApiError a client sees (for a stream's `error` event), or undefined. */
export function knownError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err
  if (err instanceof DomainError) {
    return new ApiError(DOMAIN_ERROR_CODES[err.kind], { message: err.message, details: err.details })
  }
  if (isDatabaseUnavailable(err))
    return new ApiError('DATABASE_UNAVAILABLE', { headers: { 'Retry-After': '5' } })
  return upstreamError(err)
}

/** LLM failures as API errors. */
export function upstreamError(err: unknown): ApiError | undefined {
  if (err instanceof LlmUnavailableError) {
    return new ApiError('LLM_UNAVAILABLE', { headers: { 'Retry-After': String(err.retryAfterSeconds) } })
  }
  if (err instanceof LlmTimeoutError)
    return new ApiError('TIMEOUT', { message: 'The answer ran past its deadline' })
  if (err instanceof EmbedderUnavailableError) {
    return new ApiError('LLM_UNAVAILABLE', {
      message: 'The embedding provider is unavailable',
      headers: { 'Retry-After': '5' },
    })
  }
  if (err instanceof ProviderError) {
    // A provider refusing our request (kind caller) or failing after the answer began.
    return new ApiError('UPSTREAM_ERROR', {
      message:
        err.kind === 'caller'
          ? 'The language model provider refused this request'
          : 'The language model provider failed while answering',
    })
  }
  return undefined
}
