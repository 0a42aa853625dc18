import { createRoute } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import {
  ADMIN_ERRORS,
  adminContentRoute,
  BODY_ERRORS,
  ContentAnswer,
  ContentFields,
} from '@/routes/content/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminContentRoute,
  operationId: 'createContent',
  method: 'post',
  path: '/api/v1/content',
  summary: 'Create a draft (admin); the slug is made from the title when absent, a taken one is a 409',
  request: jsonRequest(ContentFields.strict()),
  responses: {
    201: jsonResponse(ContentAnswer, 'Created, as a draft'),
    ...errorResponses(...ADMIN_ERRORS, 'CONFLICT', ...BODY_ERRORS),
  },
})

export const registerCreateContent = (router: Router) =>
  router.openapi(route, async (c) => {
    const content = await c.get('services').content.create(c.get('user'), c.req.valid('json'))
    return c.json({ content }, 201)
  })
