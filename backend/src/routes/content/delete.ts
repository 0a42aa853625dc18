import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, adminContentRoute, ContentParams } from '@/routes/content/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminContentRoute,
  operationId: 'deleteContent',
  method: 'delete',
  path: '/api/v1/content/{id}',
  summary: 'Delete an item (admin); its knowledge-base passages go too',
  request: { params: ContentParams },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(...ADMIN_ERRORS, 'NOT_FOUND'),
  },
})

export const registerDeleteContent = (router: Router) =>
  router.openapi(route, async (c) => {
    await c.get('services').content.remove(c.get('user'), c.req.valid('param').id)
    return c.body(null, 204)
  })
