import { z } from '@hono/zod-openapi'
import { ERROR_CODES, type ErrorCode } from '@/lib/errors/codes'
import { jsonContent } from '@/lib/http/openapi'

/** The API.md error body, for the OpenAPI document. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      request_id: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error')

/**
 * A named list of error codes that routes spread into `errorResponses(…)`, checked against the
 * code table. Within one status, the order is the order the document lists them in.
 */
export const errorCodes = <const C extends ErrorCode[]>(...codes: C): C => codes

/** `responses` entries for the error codes a route can answer with, grouped by status. */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of codes) {
    const status = ERROR_CODES[code].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      status,
      { description: group.join(' | '), content: jsonContent(ErrorBodySchema) },
    ]),
  )
}
