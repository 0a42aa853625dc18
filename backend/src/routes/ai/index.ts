import { registerAnalyzeContent } from '@/routes/ai/analyze'
import { registerChat } from '@/routes/ai/chat'
import { registerGetCoaching } from '@/routes/ai/coaching'
import { registerGetGuidance } from '@/routes/ai/guidance'
import { registerCreateQuizQuestions } from '@/routes/ai/quiz'
import { registerTeamCoaching } from '@/routes/ai/team-coaching'
import { createRouter } from '@/routes/router'

export const aiRoutes = createRouter()
// Registration order is route-matching order: keep it.
registerChat(aiRoutes)
registerGetCoaching(aiRoutes)
registerTeamCoaching(aiRoutes)
registerGetGuidance(aiRoutes)
registerCreateQuizQuestions(aiRoutes)
registerAnalyzeContent(aiRoutes)
