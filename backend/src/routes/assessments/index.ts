import { registerSubmitAnswer } from '@/routes/assessments/answer'
import { registerCompleteAssessment } from '@/routes/assessments/complete'
import { registerCreateAssessment } from '@/routes/assessments/create'
import { registerDeleteAssessment } from '@/routes/assessments/delete'
import { registerGetAssessment } from '@/routes/assessments/get'
import { registerListAssessments } from '@/routes/assessments/list'
import { registerGetAssessmentQuestions } from '@/routes/assessments/questions'
import { createRouter } from '@/routes/router'

export const assessmentRoutes = createRouter()
// Registration order is route-matching order: keep it.
registerCreateAssessment(assessmentRoutes)
registerListAssessments(assessmentRoutes)
registerGetAssessment(assessmentRoutes)
registerGetAssessmentQuestions(assessmentRoutes)
registerSubmitAnswer(assessmentRoutes)
registerCompleteAssessment(assessmentRoutes)
registerDeleteAssessment(assessmentRoutes)
