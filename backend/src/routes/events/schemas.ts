import { z } from '@hono/zod-openapi'
import { requireAuth } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { rateLimit } from '@/lib/http/rate-limit'
import { errorCodes } from '@/lib/http/schemas'
import { storableString, UNSTORABLE_MESSAGE } from '@/lib/http/text'
import { storableJson } from '@/lib/text'
import { PillarIdSchema } from '@/routes/pilar-schemas'
import { EVENT_TYPES } from '@/services/progress/events-store'

/**
 * The event route: the signed-in user's `api` limit plus the per-user `events` one (a batch
 * writes up to 100 rows, so it is counted on its own, like the AI routes' quota).
 */
export const eventRoute = bearerRoute(
  'Activity',
  guards(requireAuth(), rateLimit({ policy: 'events', key: 'user' })),
)

export const EVENT_ERRORS = errorCodes(
  'RATE_LIMITED',
  'VALIDATION_ERROR',
  'INVALID_JSON',
  'UNAUTHORIZED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'AUTH_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
)

export const EVENTS_PER_BATCH = 100
/** `properties` as JSON text with its numbers written out in full (`storedJsonBytes`), in UTF-8 bytes. */
export const PROPERTIES_MAX_BYTES = 2_048
const PROPERTIES_MAX_DEPTH = 16

const utf8 = new TextEncoder()

/**
 * The length of a number as jsonb prints it back: numeric never uses an exponent, so 1e300 is
 * 301 digits and 1e-300 is 302 characters, where JSON.stringify wrote 6 — 250 of them are 1.7 KB
 * of JSON and 75 KB stored. (JS uses an exponent only at |x| ≥ 1e21 or < 1e-6; below that both
 * print the same shortest digits.)
 */
function plainLength(value: number): number {
  const text = String(value)
  const e = text.indexOf('e')
  if (e < 0) return text.length
  const sign = text.startsWith('-') ? 1 : 0
  const digits = text.slice(sign, e).replace('.', '').length
  const exponent = Number(text.slice(e + 1))
  // 1.5e+21 → "15" and 20 zeros; 1.5e-7 → "0." + 6 zeros + "15".
  return sign + (exponent >= 0 ? Math.max(digits, exponent + 1) : 2 + (-exponent - 1) + digits)
}

/** What writing every number in full adds to JSON.stringify (not past the depth cap, refused anyway). */
function numberSurplus(value: unknown, depth: number): number {
  if (typeof value === 'number') return plainLength(value) - String(value).length
  if (depth > PROPERTIES_MAX_DEPTH || value === null || typeof value !== 'object') return 0
  let surplus = 0
  for (const item of Array.isArray(value) ? value : Object.values(value))
    surplus += numberSurplus(item, depth + 1)
  return surplus
}

/**
 * `value` as JSON text with numbers as jsonb prints them. Everything else prints alike (the same
 * string escapes; jsonb only sorts keys and adds one space after each ':' and ','), so the stored
 * text is at most 1.5 × this: under the table's 4,096-byte check for anything ≤ 2 KiB here.
 */
export function storedJsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value)).length + numberSurplus(value, 0)
}

const Properties = z
  .record(z.string(), z.unknown())
  .refine((value) => storedJsonBytes(value) <= PROPERTIES_MAX_BYTES, {
    message: `must be at most ${PROPERTIES_MAX_BYTES} bytes as JSON (numbers written out in full, as stored)`,
  })
  .refine((value) => storableJson(value, PROPERTIES_MAX_DEPTH), {
    message: `${UNSTORABLE_MESSAGE}, nor nest deeper than ${PROPERTIES_MAX_DEPTH}`,
  })
  .openapi({
    description:
      'Any JSON object of at most 2 KiB as JSON text, numbers counted written out in full (1e300: 301 digits)',
  })

export const EventSchema = z
  .object({
    id: z.uuid().openapi({ description: 'Made by the client; a retry sends the same id' }),
    type: z.enum(EVENT_TYPES),
    occurred_at: z.iso.datetime({ offset: true }).openapi({
      description: 'Within the last 7 days and at most 5 minutes ahead of the server clock',
    }),
    session_id: storableString(128).nullish(),
    page: storableString(512).nullish(),
    pillar_id: PillarIdSchema.nullish(),
    properties: Properties.nullish(),
  })
  .strict()
  .openapi('ActivityEvent')

export const EventBatchSchema = z
  .object({ events: z.array(EventSchema).min(1).max(EVENTS_PER_BATCH) })
  .strict()
  .openapi('ActivityEventBatch')

export const IngestAnswer = z
  .object({
    accepted: z.number().int().openapi({ description: 'Events stored by this request' }),
    duplicates: z.number().int().openapi({
      description: 'Events whose id was already stored (or repeated in the batch): nothing changed',
    }),
  })
  .openapi('ActivityIngestResult')
