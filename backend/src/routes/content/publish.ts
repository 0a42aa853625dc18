import { createRoute } from '@hono/zod-openapi'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { ADMIN_ERRORS, adminContentRoute, ContentAnswer, ContentParams } from '@/routes/content/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...adminContentRoute,
  operationId: 'publishContent',
  method: 'post',
  path: '/api/v1/content/{id}/publish',
  summary: 'Publish a draft or an archived item (admin); published_at is set the first time only',
  description: 'Already in that state: the item as it is, unchanged.',
  request: { params: ContentParams },
  responses: {
    200: jsonResponse(ContentAnswer, 'The item'),
    ...errorResponses(...ADMIN_ERRORS, 'NOT_FOUND'),
  },
})

export const registerPublishContent = (router: Router) =>
  router.openapi(route, async (c) => {
    const content = await c.get('services').content.publish(c.get('user'), c.req.valid('param').id)
    return c.json({ content }, 200)
  })
