import { registerIngestEvents } from '@/routes/events/ingest'
import { createRouter } from '@/routes/router'

/** Activity events the SPA reports: stored per user, counted by admin analytics. */
export const eventRoutes = createRouter()
registerIngestEvents(eventRoutes)
