import { localUserId, signLocalToken } from '@/lib/auth/local-tokens'

/** The local-mode secret test apps are configured with (`testApp(LOCAL_AUTH)`). */
export const TEST_JWT_SECRET = 'pilar-test-local-secret-0123456789abcdef'
export const LOCAL_AUTH = { LOCAL_JWT_SECRET: TEST_JWT_SECRET }

export interface TestUser {
  id: string
  email: string
  token: string
  /** `{ authorization: 'Bearer …' }` */
  headers: Record<string, string>
}

/** A fresh local-mode user and a valid token for them. */
export async function newUser(options: { admin?: boolean } = {}): Promise<TestUser> {
  const email = `user-${crypto.randomUUID()}@example.test`
  const token = await signLocalToken(TEST_JWT_SECRET, { email, admin: options.admin, ttlSeconds: 3_600 })
  return { id: localUserId(email), email, token, headers: { authorization: `Bearer ${token}` } }
}
