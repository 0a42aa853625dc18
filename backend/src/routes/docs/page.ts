import type { Router } from '@/routes/router'

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

/** `/docs`: the interactive reference, self-hosted (its assets are in `assets.ts`). */
export const registerDocsPage = (router: Router) =>
  router.get('/docs', (c) => {
    c.header('Content-Security-Policy', DOCS_CSP)
    return c.html(PAGE)
  })
