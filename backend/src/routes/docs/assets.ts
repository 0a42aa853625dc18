import { dirname, join } from 'node:path'
import type { Router } from '@/routes/router'

// The reference UI is served from the installed package: these machines and many deployments
// have no internet, so the page must not load anything from a CDN.
const SWAGGER_DIR = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
// One `/docs/assets/:name` route serves every asset, the init script included: a static path
// beside the parameter would push Hono from its RegExpRouter onto the much slower TrieRouter.
const ASSETS: Record<string, { file: string; type: string } | { body: string; type: string }> = {
  'swagger-ui.css': { file: join(SWAGGER_DIR, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': {
    file: join(SWAGGER_DIR, 'swagger-ui-bundle.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'favicon-32x32.png': { file: join(SWAGGER_DIR, 'favicon-32x32.png'), type: 'image/png' },
}

// validatorUrl null: Swagger UI would otherwise send the document to an external validator.
// defaultModelsExpandDepth -1: no "Schemas" list under the operations (each operation shows its
// own schemas); rendering every component of the document first made the page slow to open.
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#api-reference',
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    defaultModelsExpandDepth: -1
  })
})
`

ASSETS['init.js'] = { body: INIT_SCRIPT, type: 'text/javascript; charset=utf-8' }

/** `/docs/assets/:name`: Swagger UI's files from the installed package, and its init script. */
export const registerDocsAssets = (router: Router) =>
  router.get('/docs/assets/:name', (c) => {
    const name = c.req.param('name')
    // Own keys only: `constructor` or `__proto__` must be a 404, not a lookup on the prototype.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
    if (!asset) return c.notFound()
    c.header('Content-Type', asset.type)
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body('body' in asset ? asset.body : Bun.file(asset.file).stream())
  })
