import { z } from '@hono/zod-openapi'
import { MODES, type Mode, PILLAR_IDS, PILLARS, type PillarId } from '@/services/pilar/framework'

export const PillarIdSchema = z.enum(PILLAR_IDS).openapi({ example: 'divsexp' })
export const ModeSchema = z.enum(MODES).openapi({ example: 'egalitarian' })

/** A pillar, when both are given, must belong to the mode. */
export function pillarMatchesMode(value: { pillar_id?: PillarId; mode?: Mode }): boolean {
  return !value.pillar_id || !value.mode || PILLARS[value.pillar_id].mode === value.mode
}

/** The refinement error every request with pillar_id and mode reports the same way. */
export const PILLAR_MODE_MISMATCH = { message: 'pillar_id is not a pillar of this mode', path: ['pillar_id'] }
