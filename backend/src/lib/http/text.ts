import { z } from '@hono/zod-openapi'
import { hasUnstorable } from '@/lib/text'

/** Options of `freeText`. */
export interface FreeTextOptions {
  /** Fewest characters (after trimming, when trimmed); default 1. */
  min?: number
  /** Most characters (after trimming, when trimmed). */
  max: number
  /** Trim surrounding whitespace first; default true. */
  trim?: boolean
}

/** The issue every free-text field reports for text the database cannot hold. */
export const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates'

/**
 * A free-text request field. NUL and lone surrogates are refused with a 400 naming the field:
 * Postgres cannot store them, and finding out at the insert — after the model's tokens were
 * spent — was a 500.
 */
export function freeText({ min = 1, max, trim = true }: FreeTextOptions) {
  const base = trim ? z.string().trim() : z.string()
  return base
    .min(min)
    .max(max)
    .refine((value) => !hasUnstorable(value), UNSTORABLE_MESSAGE)
}

/** The same refinement, for a field that transforms its text before its length is checked. */
export const storableString = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !hasUnstorable(value), UNSTORABLE_MESSAGE)
