import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses } from '@/lib/http/schemas'
import type { Router } from '@/routes/router'
import { USER_ERRORS, userRoute } from '@/routes/users/schemas'

const route = createRoute({
  ...userRoute,
  operationId: 'exportMyData',
  method: 'get',
  path: '/api/v1/users/me/export',
  summary:
    'Everything stored about you, as a JSON attachment (streamed): profile, assessments, conversations with messages, memberships, invitations, round participations, events, points',
  responses: {
    200: {
      description: 'A JSON file (Content-Disposition: attachment)',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi('Export') } },
    },
    ...errorResponses(...USER_ERRORS),
  },
})

const encoder = new TextEncoder()

export const registerExportMyData = (router: Router) =>
  router.openapi(route, async (c) => {
    const { filename, chunks } = await c.get('services').users.export(c.get('user'))
    // Pulled piece by piece: the next page is read only when the client has taken the last one,
    // and a client that goes away stops the reads.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await chunks.next()
        if (next.done) controller.close()
        else controller.enqueue(encoder.encode(next.value))
      },
      async cancel() {
        await chunks.return(undefined)
      },
    })
    // A streamed JSON body: @hono/zod-openapi types a JSON response as c.json's only. Through
    // c.body, not a bare Response: the headers written before the handler (X-Request-Id, the
    // rate limit, CORS) are on the answer only when the context builds it.
    return c.body(body, 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    }) as never
  })
