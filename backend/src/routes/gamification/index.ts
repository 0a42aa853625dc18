import { registerListBadges } from '@/routes/gamification/badges'
import { registerGetLeaderboard } from '@/routes/gamification/leaderboard'
import { registerGetMyGamification } from '@/routes/gamification/me'
import { createRouter } from '@/routes/router'

/** Points, levels, streaks, badges and leaderboards: read-only (the server awards). */
export const gamificationRoutes = createRouter()
registerGetMyGamification(gamificationRoutes)
registerListBadges(gamificationRoutes)
registerGetLeaderboard(gamificationRoutes)
