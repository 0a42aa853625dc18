import { createRouter } from '@/routes/router'
import { registerDeleteMyAccount } from '@/routes/users/delete'
import { registerExportMyData } from '@/routes/users/export'
import { registerGetMyProfile } from '@/routes/users/me'
import { registerUpdateMyProfile } from '@/routes/users/me-update'
import { registerGetMyProgress } from '@/routes/users/progress'

/** The caller's own account: profile, progress, export, deletion. */
export const userRoutes = createRouter()
registerGetMyProfile(userRoutes)
registerUpdateMyProfile(userRoutes)
registerGetMyProgress(userRoutes)
registerExportMyData(userRoutes)
registerDeleteMyAccount(userRoutes)
