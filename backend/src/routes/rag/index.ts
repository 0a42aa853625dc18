import { registerListPillarConnections } from '@/routes/rag/connections'
import { registerGetPillarForces } from '@/routes/rag/forces'
import { registerIngestDocuments } from '@/routes/rag/ingest'
import { registerSearchKnowledge } from '@/routes/rag/query'
import { createRouter } from '@/routes/router'

export const ragRoutes = createRouter()
// Registration order is route-matching order: keep it.
registerSearchKnowledge(ragRoutes)
registerGetPillarForces(ragRoutes)
registerListPillarConnections(ragRoutes)
registerIngestDocuments(ragRoutes)
