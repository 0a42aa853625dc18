import type { Router } from '@/routes/router'

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

/**
 * `/openapi.json`, generated from the route schemas. Registered on the app itself, not on a
 * feature router: the document is built from the registry that every mounted router fed.
 */
export function registerOpenApi(app: Router, version: string) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A Supabase access token, or a local-mode token from `bun run token`',
  })
  app.doc31('/openapi.json', {
    ...OPENAPI_INFO,
    info: { ...OPENAPI_INFO.info, 'x-server-version': version },
  })
}
