import { declareImpliedErrors } from '@/routes/docs/implied-errors'
import type { Router } from '@/routes/router'

const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'PILAR API',
    version: 'v1',
    description:
      'Group-dynamics assessments, AI coaching and the PILAR knowledge base. Errors share one body: ' +
      "`{ error: { code, message, request_id, details? } }`; `/auth/v1` answers in GoTrue's shape. " +
      'The reference in prose: docs/api.md in the repository.',
  },
} as const

/**
 * `/openapi.json`, generated from the route schemas. Registered on the app itself, not on a
 * feature router: the document is built from the registry that every mounted router fed, so
 * this runs after they are all mounted and completes each route's errors and security first.
 */
export function registerOpenApi(app: Router, version: string) {
  declareImpliedErrors(app)
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
