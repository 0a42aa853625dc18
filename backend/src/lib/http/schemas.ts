import { z } from '@hono/zod-openapi'
import { ERROR_CODES, type ErrorCode } from '@/lib/errors/codes'

const ALL_CODES = Object.keys(ERROR_CODES) as ErrorCode[]

const errorBody = (codes: ErrorCode[]) =>
  z.object({
    error: z.object({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      request_id: z.string(),
      details: z.unknown().optional(),
    }),
  })

/** The API.md error body, for the OpenAPI document. */
export const ErrorBodySchema = errorBody(ALL_CODES).openapi('Error')

// One body per status whose `code` can only be a code of that status (`Error401`: UNAUTHORIZED),
// so a peer validator refuses a 401 that says VALIDATION_ERROR and generated clients can narrow.
const ERROR_BODIES = new Map<number, z.ZodType>(
  [...new Set(ALL_CODES.map((code) => ERROR_CODES[code].status))].map((status) => {
    const codes = ALL_CODES.filter((code) => ERROR_CODES[code].status === status)
    return [
      status,
      errorBody(codes).openapi(`Error${status}`, { description: `The error body of a ${status}` }),
    ] as const
  }),
)

/**
 * A named list of error codes that routes spread into `errorResponses(…)`, checked against the
 * code table. Within one status, the order is the order the document lists them in.
 */
export const errorCodes = <const C extends ErrorCode[]>(...codes: C): C => codes

/** What `errorResponses` builds for one status; `examples` is keyed by code. */
export interface ErrorResponse {
  description: string
  content: {
    'application/json': {
      schema: z.ZodType
      examples: Record<string, { summary: string; value: { error: Record<string, string> } }>
    }
  }
}

/**
 * `responses` entries for the error codes a route can answer with, grouped by status; each
 * status lists one example per code, so the document never shows a 401 as VALIDATION_ERROR.
 */
export function errorResponses(...codes: ErrorCode[]): Record<number, ErrorResponse> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      status,
      {
        description: group.join(' | '),
        content: {
          'application/json': {
            schema: ERROR_BODIES.get(status) ?? ErrorBodySchema,
            examples: Object.fromEntries(
              group.map((code) => [
                code,
                {
                  summary: ERROR_CODES[code].message,
                  value: { error: { code, message: ERROR_CODES[code].message, request_id: 'req_0f3c…' } },
                },
              ]),
            ),
          },
        },
      },
    ]),
  )
}

/** The codes an `errorResponses` entry was built for (its examples), e.g. to merge in more. */
export function declaredCodes(entry: unknown): ErrorCode[] {
  const examples = (entry as Partial<ErrorResponse> | undefined)?.content?.['application/json']?.examples
  return Object.keys(examples ?? {}).filter((code): code is ErrorCode => code in ERROR_CODES)
}
