import { OpenAPIHono } from '@hono/zod-openapi'
import { validationError } from '@/lib/errors/handler'
import type { AppEnv } from '@/lib/http/context'

/**
 * Every router is made here so all of them share the zod hook: a schema failure anywhere
 * becomes a 400 VALIDATION_ERROR listing each field issue, never Hono's default body.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, _c) => {
      if (!result.success) throw validationError(result.error, result.target)
    },
  })
}

export type Router = ReturnType<typeof createRouter>
