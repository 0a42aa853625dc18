import type { KnowledgeStore } from '@/services/knowledge/store'
import type { Mode, PillarId } from '@/services/pilar/framework'
import { PILLARS } from '@/services/pilar/framework'

export interface SeedDocument {
  content: string
  metadata: {
    title: string
    source: string
    pillar_id?: PillarId
    mode?: Mode
    kind: 'pillar' | 'force' | 'connection'
  }
}

const SOURCE = 'pilar-framework'

/**
 * The passages every knowledge base starts with, composed from the framework tables the
 * migration seeds (descriptions written for this project): one per pillar overview, per force
 * and per connection.
 */
export async function frameworkPassages(store: KnowledgeStore): Promise<SeedDocument[]> {
  const [pillars, forces, connections] = await Promise.all([
    store.pillars(),
    store.forces(),
    store.connections({}),
  ])
  const title = (id: PillarId) => PILLARS[id].title
  const docs: SeedDocument[] = []
  for (const pillar of pillars) {
    const own = forces.filter((f) => f.pillar_id === pillar.id).map((f) => f.name)
    docs.push({
      content: `# ${pillar.title} (${pillar.abbreviation}), ${pillar.mode} mode\n\n${pillar.description}\n\nIts four forces are ${own.slice(0, -1).join(', ')} and ${own.at(-1)}.`,
      metadata: {
        title: `${pillar.title} overview`,
        source: SOURCE,
        pillar_id: pillar.id,
        mode: pillar.mode,
        kind: 'pillar',
      },
    })
  }
  for (const force of forces) {
    const mode = PILLARS[force.pillar_id].mode
    docs.push({
      content: `# ${force.name}: a force of ${title(force.pillar_id)} (${mode} mode)\n\n${force.description}`,
      metadata: {
        title: `${force.name} (${title(force.pillar_id)})`,
        source: SOURCE,
        pillar_id: force.pillar_id,
        mode,
        kind: 'force',
      },
    })
  }
  for (const c of connections) {
    const label = c.name ? `${c.name} (${c.id})` : c.id
    docs.push({
      content: `# Connection ${label}: ${title(c.from_pillar)} → ${title(c.to_pillar)}, ${c.type}, ${c.mode} mode\n\n${c.description}`,
      metadata: {
        title: `Connection ${label}`,
        source: SOURCE,
        pillar_id: c.from_pillar,
        mode: c.mode,
        kind: 'connection',
      },
    })
  }
  return docs
}
