import { z } from '@hono/zod-openapi'
import { requireAdmin } from '@/lib/http/auth'
import { guards } from '@/lib/http/middleware'
import { bearerRoute } from '@/lib/http/openapi'
import { errorCodes } from '@/lib/http/schemas'
import { freeText } from '@/lib/http/text'
import { PillarIdSchema } from '@/routes/pilar-schemas'
import { SLUG_MAX, SLUG_PATTERN } from '@/services/content/slug'

/** The admin routes: the admin role, spent on the user's `api` limit. */
export const adminContentRoute = bearerRoute('Content', guards(requireAdmin()))

/** What every admin content route can answer; each adds its own. */
export const ADMIN_ERRORS = errorCodes(
  'RATE_LIMITED',
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'AUTH_UNAVAILABLE',
)

/** What a route with a JSON body can answer besides its own errors. */
export const BODY_ERRORS = errorCodes('INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE')

export const ContentParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

export const ContentKindSchema = z.enum(['blog', 'page', 'resource'])
export const ContentStatusSchema = z.enum(['draft', 'published', 'archived'])

export const SlugSchema = z
  .string()
  .max(SLUG_MAX)
  .regex(SLUG_PATTERN, 'must be lowercase letters and digits in words joined by single dashes')
  .openapi({ example: 'what-is-pilar' })
export const TitleSchema = freeText({ min: 1, max: 200 })
export const SummarySchema = freeText({ min: 0, max: 500 }).nullable()
/** Markdown, kept as sent (trailing spaces are line breaks in markdown). */
export const BodySchema = freeText({ min: 0, max: 200_000, trim: false }).openapi({
  description: 'Markdown; the SPA renders it, the API never returns HTML',
})
export const PillarIdsSchema = z.array(PillarIdSchema).max(10)
export const TagsSchema = z.array(freeText({ min: 1, max: 40 })).max(20)

const fields = {
  id: z.uuid(),
  slug: z.string(),
  kind: ContentKindSchema,
  title: z.string(),
  summary: z.string().nullable(),
  pillar_ids: z.array(z.string()),
  tags: z.array(z.string()),
  status: ContentStatusSchema,
  author_id: z.uuid().nullable(),
  published_at: z.string().nullable().openapi({ description: 'Set when first published, kept after' }),
  created_at: z.string(),
  updated_at: z.string(),
}

export const ContentSummarySchema = z.object(fields).openapi('ContentSummary')
export const ContentSchema = z.object({ ...fields, body: z.string() }).openapi('Content')

export const ContentAnswer = z.object({ content: ContentSchema })

/** A page of `item`: `{data, next_cursor}`. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() })

/** The public routes' security: anonymous, or a bearer token (then it must be valid). */
export const OPTIONAL_BEARER: Record<string, string[]>[] = [{}, { bearer: [] }]

/** The writable fields: all of them on create (the optional ones may be left out), any on edit. */
export const ContentFields = z.object({
  title: TitleSchema,
  body: BodySchema,
  kind: ContentKindSchema,
  slug: SlugSchema.optional(),
  summary: SummarySchema.optional(),
  pillar_ids: PillarIdsSchema.optional(),
  tags: TagsSchema.optional(),
})
