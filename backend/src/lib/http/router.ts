import { OpenAPIHono } from '@hono/zod-openapi'
import type { Env } from 'hono'
import { validationError } from '@/lib/errors/handler'

/**
 * Every router is made here so all of them share the zod hook: a schema failure anywhere
 * becomes a 400 VALIDATION_ERROR listing each field issue, never Hono's default body. The app
 * binds it to its own context type (routes/router.ts).
 */
export function createOpenApiRouter<E extends Env>() {
  return new OpenAPIHono<E>({
    defaultHook: (result, _c) => {
      if (!result.success) throw validationError(result.error, result.target)
    },
  })
}
