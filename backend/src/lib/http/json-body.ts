import type { MiddlewareHandler } from 'hono'
import { ApiError } from '@/lib/errors/api-error'
import type { HttpEnv } from '@/lib/http/context'
import { spendForRefusedBody } from '@/lib/http/rate-limit'
import { endpointPattern } from '@/lib/http/route'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json(?:\s*;|$)/i

// By the framing headers, as the body arrived on the wire: a chunked upload has no
// Content-Length, only Transfer-Encoding (tests/integration/http-wire.test.ts sends both kinds).
function hasBody(request: Request): boolean {
  if (request.headers.has('transfer-encoding')) return true
  const length = request.headers.get('content-length')
  return length !== null && length !== '0'
}

/**
 * API routes speak JSON only. A body in another type is a 415; a JSON body that does not parse
 * is a 400 INVALID_JSON. The body text is cached by Hono, so route validators reuse it.
 */
export function jsonBody(): MiddlewareHandler<HttpEnv> {
  return async function jsonBody(c, next) {
    // An unknown route is a 404 whatever its body; leave that to the not-found handler.
    if (endpointPattern(c) === undefined) return next()
    const contentType = c.req.header('content-type')
    const isJson = contentType !== undefined && JSON_TYPE.test(contentType)
    if (!isJson && !hasBody(c.req.raw)) return next()
    if (!isJson) {
      await spendForRefusedBody(c)
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', {
        message: `Request bodies must be application/json, not ${contentType?.split(';')[0] || 'an unspecified type'}`,
      })
    }
    const text = await c.req.text()
    // An empty body is no body (e.g. `Content-Type: application/json` on POST /logout); a route
    // that needs one still rejects it in its validator.
    if (text.length === 0) return next()
    try {
      JSON.parse(text)
    } catch {
      await spendForRefusedBody(c)
      throw new ApiError('INVALID_JSON')
    }
    return next()
  }
}
