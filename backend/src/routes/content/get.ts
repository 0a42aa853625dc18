import { createRoute, z } from '@hono/zod-openapi'
import { optionalAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { entityTags } from '@/routes/content/etag'
import { ContentAnswer, OPTIONAL_BEARER } from '@/routes/content/schemas'
import type { Router } from '@/routes/router'

const CACHE_HEADERS = {
  ETag: { description: 'Strong; changes with every change to the item', schema: { type: 'string' as const } },
  'Cache-Control': {
    description:
      '`public, max-age=60` for a published item, `private, no-store` for an admin reading any other',
    schema: { type: 'string' as const },
  },
}

const route = createRoute({
  operationId: 'getContent',
  method: 'get',
  path: '/api/v1/content/{slug}',
  tags: ['Content'],
  summary: 'One item by slug; drafts and archived items are 404 for everyone but admins',
  security: OPTIONAL_BEARER,
  middleware: guards(optionalAuth()),
  request: {
    params: z.object({
      slug: z
        .string()
        .min(1)
        .max(200)
        .openapi({ param: { name: 'slug', in: 'path' } }),
    }),
    headers: z.object({ 'if-none-match': z.string().max(4_000).optional() }),
  },
  responses: {
    200: { ...jsonResponse(ContentAnswer, 'The item'), headers: CACHE_HEADERS },
    304: {
      description: 'Not modified: If-None-Match holds the current ETag; no body',
      headers: CACHE_HEADERS,
    },
    ...errorResponses('RATE_LIMITED', 'VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND', 'AUTH_UNAVAILABLE'),
  },
})

export const registerGetContent = (router: Router) =>
  router.openapi(route, async (c) => {
    // What a shared cache holds for an anonymous reader (a 404 for a draft) must not be served to
    // an admin, whose answer differs.
    // Appended: the CORS layer has already written `Vary: Origin`.
    c.header('Vary', 'Authorization', { append: true })
    // Until an item is found: a 404 (a draft, for now) is not kept by caches once it is published.
    c.header('Cache-Control', 'no-store')
    const known = entityTags(c.req.valid('header')['if-none-match'])
    const found = await c.get('services').content.read(c.get('user'), c.req.valid('param').slug, known)
    const status = found.modified ? found.content.status : found.status
    c.header('ETag', found.etag)
    c.header('Cache-Control', status === 'published' ? 'public, max-age=60' : 'private, no-store')
    if (!found.modified) return c.body(null, 304)
    return c.json({ content: found.content }, 200)
  })
