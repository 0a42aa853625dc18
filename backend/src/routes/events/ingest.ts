import { createRoute } from '@hono/zod-openapi'
import { jsonRequest, jsonResponse } from '@/lib/http/openapi'
import { errorResponses } from '@/lib/http/schemas'
import { EVENT_ERRORS, EventBatchSchema, eventRoute, IngestAnswer } from '@/routes/events/schemas'
import type { Router } from '@/routes/router'

const route = createRoute({
  ...eventRoute,
  operationId: 'ingestEvents',
  method: 'post',
  path: '/api/v1/events',
  summary: 'Record 1..100 activity events; an id already stored is a duplicate and changes nothing',
  description:
    'The whole batch is checked first (each issue named with its index, e.g. `body.events.3.type`) ' +
    'and stored in one statement: a batch with any invalid event stores nothing.',
  request: jsonRequest(EventBatchSchema),
  responses: {
    202: jsonResponse(IngestAnswer, 'Stored (new ones) or recognised (duplicates)'),
    ...errorResponses(...EVENT_ERRORS),
  },
})

export const registerIngestEvents = (router: Router) =>
  router.openapi(route, async (c) => {
    const { events } = c.req.valid('json')
    const result = await c.get('services').events.ingest(c.get('user'), events)
    return c.json(result, 202)
  })
