/**
 * The PILAR framework's fixed structure: two modes, five pillars each, four forces per pillar.
 * Ids, names and mode membership are facts from `pilar-facts.json` beside this file (a copy of
 * shared/data/pilar-facts.json; a test checks this module against it). Code and schemas derive
 * their enums from here.
 */

export const MODES = ['egalitarian', 'hierarchical'] as const
export type Mode = (typeof MODES)[number]

export const PILLARS = {
  divsexp: { mode: 'egalitarian', abbreviation: 'DivsExp', title: 'Diverse Expression' },
  indrecip: { mode: 'egalitarian', abbreviation: 'IndRecip', title: 'Indirect Reciprocity' },
  popularity: { mode: 'egalitarian', abbreviation: 'Popularity', title: 'Popularity' },
  grpprosp: { mode: 'egalitarian', abbreviation: 'GrpProsp', title: 'Group Prospects' },
  outresp: { mode: 'egalitarian', abbreviation: 'OutResp', title: 'Outgoing Respect' },
  normexp: { mode: 'hierarchical', abbreviation: 'NormExp', title: 'Normative Expression' },
  dirrecip: { mode: 'hierarchical', abbreviation: 'DirRecip', title: 'Direct Reciprocity' },
  status: { mode: 'hierarchical', abbreviation: 'Status', title: 'Status' },
  ownprosp: { mode: 'hierarchical', abbreviation: 'OwnProsp', title: 'Own Prospects' },
  incresp: { mode: 'hierarchical', abbreviation: 'IncResp', title: 'Incoming Respect' },
} as const satisfies Record<string, { mode: Mode; abbreviation: string; title: string }>

export type PillarId = keyof typeof PILLARS
export const PILLAR_IDS = Object.keys(PILLARS) as [PillarId, ...PillarId[]]

/** Whether a pillar belongs to a mode (each pillar belongs to exactly one). */
export function pillarInMode(pillarId: PillarId, mode: Mode): boolean {
  return PILLARS[pillarId].mode === mode
}

/** The pillars of a mode, in framework order. */
export function pillarsOf(mode: Mode): PillarId[] {
  return PILLAR_IDS.filter((id) => PILLARS[id].mode === mode)
}
