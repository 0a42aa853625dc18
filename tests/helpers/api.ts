import type { TestApp } from '@tests/helpers/app'
import type { TestUser } from '@tests/helpers/auth'

/** A JSON response body of any shape: each test checks it with toEqual / toMatchObject. */
export interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes, each checked by toEqual/toMatchObject
  [key: string]: any
}

export interface ApiAnswer {
  status: number
  body: Json
}

/** A call to `/api/v1${path}` on the in-process app as `user` (or anonymous), `body` sent as JSON. */
export async function callApi(
  app: Pick<TestApp, 'request'>,
  user: TestUser | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const response = await app.request(`/api/v1${path}`, {
    method,
    headers: {
      ...(user?.headers ?? {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Json }
}

/** `callApi` that throws unless the answer has `status`; returns the body. */
export async function expectApi(
  app: Pick<TestApp, 'request'>,
  user: TestUser | undefined,
  method: string,
  path: string,
  body?: unknown,
  status = 200,
): Promise<Json> {
  const answer = await callApi(app, user, method, path, body)
  if (answer.status !== status) {
    throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  return answer.body
}
