import type { z } from '@hono/zod-openapi'

/** A `content` map with one JSON body: `{ 'application/json': { schema } }`. */
export const jsonContent = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } })

/** A `responses` entry answering JSON of `schema`. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: jsonContent(schema),
})

export interface JsonRequestOptions {
  /**
   * Default true. With false, a request without a JSON `Content-Type` is not validated and the
   * handler sees `{}` (@hono/zod-openapi's rule for optional bodies).
   */
  required?: boolean
}

/** A route's `request` part for a JSON body (`request: jsonRequest(S)` or `{ params, ...jsonRequest(S) }`). */
export const jsonRequest = <T extends z.ZodType>(
  schema: T,
  { required = true }: JsonRequestOptions = {},
) => ({
  body: { required, content: jsonContent(schema) },
})

/**
 * What a feature's routes share, spread into `createRoute`: their tag, bearer security and
 * middleware. Pass the middleware from `guards(…)`: the tuple is what types `c.get('user')`.
 */
export const bearerRoute = <M>(tag: string, middleware: M) => ({
  tags: [tag],
  security: [{ bearer: [] }],
  middleware,
})
