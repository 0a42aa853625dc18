import { registerDocsAssets } from '@/routes/docs/assets'
import { registerOpenApi } from '@/routes/docs/openapi'
import { registerDocsPage } from '@/routes/docs/page'
import { createRouter, type Router } from '@/routes/router'

/** The reference page and its assets; `/openapi.json` is registered on the app itself. */
export const docsRoutes = createRouter()
registerDocsPage(docsRoutes)
registerDocsAssets(docsRoutes)

/** `/openapi.json` (generated from the route schemas) and `/docs` (interactive, self-hosted). */
export function registerDocs(app: Router, version: string) {
  registerOpenApi(app, version)
  app.route('/', docsRoutes)
}
