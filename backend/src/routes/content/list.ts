import { createRoute } from '@hono/zod-openapi'
import { optionalAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { PageQuerySchema } from '@/lib/http/pagination'
import { errorResponses } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import {
  ContentKindSchema,
  ContentStatusSchema,
  ContentSummarySchema,
  OPTIONAL_BEARER,
  pageOf,
} from '@/routes/content/schemas'
import { PillarIdSchema } from '@/routes/pilar-schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  operationId: 'listContent',
  method: 'get',
  path: '/api/v1/content',
  tags: ['Content'],
  summary: 'Published content, newest first, without bodies; admins may ask for another status',
  description:
    '`q` is full-text search (websearch syntax: words, "a phrase", -excluded, or) over title, summary and body; matches keep the newest-first order, so the cursor stays a plain keyset. `status` other than published needs an admin (anonymous: 401, a user: 403).',
  security: OPTIONAL_BEARER,
  middleware: guards(optionalAuth()),
  request: {
    query: PageQuerySchema.extend({
      status: ContentStatusSchema.optional(),
      kind: ContentKindSchema.optional(),
      tag: freeText({ min: 1, max: 40 }).optional(),
      pillar_id: PillarIdSchema.optional(),
      q: freeText({ min: 1, max: 200 }).optional(),
    }),
  },
  responses: {
    200: jsonResponse(pageOf(ContentSummarySchema), 'A page'),
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED', 'FORBIDDEN', 'AUTH_UNAVAILABLE'),
  },
})

export const registerListContent = (router: Router) =>
  router.openapi(route, async (c) => {
    const query = c.req.valid('query')
    // The published list is the same for everyone; an admin's drafts or archive never go to a
    // shared cache, whatever it is configured to keep.
    const published = (query.status ?? 'published') === 'published'
    c.header('Cache-Control', published ? 'public, max-age=60' : 'private, no-store')
    // Appended: the CORS layer has already written `Vary: Origin`.
    c.header('Vary', 'Authorization', { append: true })
    return c.json(await c.get('services').content.list(c.get('user'), query), 200)
  })
