import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, adminContentRoute, ContentAnswer, ContentParams } from '@/routes/content/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminContentRoute,
  operationId: 'archiveContent',
  method: 'post',
  path: '/api/v1/content/{id}/archive',
  summary: 'Archive an item (admin): it leaves the public list, the slug route and the knowledge base',
  description: 'Already in that state: the item as it is, unchanged.',
  request: { params: ContentParams },
  responses: {
    200: jsonResponse(ContentAnswer, 'The item'),
    ...errorResponses(...ADMIN_ERRORS, 'NOT_FOUND'),
  },
})

export const registerArchiveContent = (router: Router) =>
  router.openapi(route, async (c) => {
    const content = await c.get('services').content.archive(c.get('user'), c.req.valid('param').id)
    return c.json({ content }, 200)
  })
