import { dirname, join } from 'node:path'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '@/lib/http/context'

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
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#api-reference',
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false
  })
})
`

ASSETS['init.js'] = { body: INIT_SCRIPT, type: 'text/javascript; charset=utf-8' }

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>PILAR API reference</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api-reference"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`

// Enforced by the browser too: the page may only talk to this server.
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'PILAR API',
    version: 'v1',
    description:
      'Group-dynamics assessments, AI coaching and the PILAR knowledge base. Errors share one body: ' +
      '`{ error: { code, message, request_id, details? } }`.',
  },
} as const

/** `/openapi.json` (generated from the route schemas) and `/docs` (interactive, self-hosted). */
export function registerDocs(app: OpenAPIHono<AppEnv>, version: string) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A Supabase access token, or a local-mode token from `bun run token`',
  })
  app.doc31('/openapi.json', {
    ...OPENAPI_INFO,
    info: { ...OPENAPI_INFO.info, 'x-server-version': version },
  })
  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', DOCS_CSP)
    return c.html(PAGE)
  })
  app.get('/docs/assets/:name', (c) => {
    const name = c.req.param('name')
    // Own keys only: `constructor` or `__proto__` must be a 404, not a lookup on the prototype.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
    if (!asset) return c.notFound()
    c.header('Content-Type', asset.type)
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body('body' in asset ? asset.body : Bun.file(asset.file).stream())
  })
}
