import { z } from '@hono/zod-openapi'

export const UsageSchema = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() })

/** The knowledge-base documents an answer was grounded in. */
export const SourcesSchema = z.array(z.object({ id: z.string(), title: z.string() }))
