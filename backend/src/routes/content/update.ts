import { createRoute } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import {
  ADMIN_ERRORS,
  adminContentRoute,
  BODY_ERRORS,
  ContentAnswer,
  ContentFields,
  ContentParams,
} from '@/routes/content/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminContentRoute,
  operationId: 'updateContent',
  method: 'patch',
  path: '/api/v1/content/{id}',
  summary: 'Edit an item (admin); the status moves through publish and archive only',
  description:
    'Editing a published item re-indexes it in the knowledge base. A field sent with the value it has is no change: updated_at and the ETag move only when something did.',
  request: {
    params: ContentParams,
    ...jsonRequest(ContentFields.partial().strict()),
  },
  responses: {
    200: jsonResponse(ContentAnswer, 'The item'),
    ...errorResponses(...ADMIN_ERRORS, 'NOT_FOUND', 'CONFLICT', ...BODY_ERRORS),
  },
})

export const registerUpdateContent = (router: Router) =>
  router.openapi(route, async (c) => {
    const content = await c
      .get('services')
      .content.update(c.get('user'), c.req.valid('param').id, c.req.valid('json'))
    return c.json({ content }, 200)
  })
