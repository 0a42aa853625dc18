import { registerHealth } from '@/routes/health/health'
import { registerReady } from '@/routes/health/ready'
import { createRouter } from '@/routes/router'

export const healthRoutes = createRouter()
registerHealth(healthRoutes)
registerReady(healthRoutes)
