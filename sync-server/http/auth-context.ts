import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Session } from '../auth/sessions.ts'
import { ApiError } from './api-error.ts'

/** Name of the session cookie. */
export const SESSION_COOKIE = 'parley_session'

/** Hono variables set by the middleware of the app. */
export interface AppEnv {
  Variables: {
    requestId: string
    session: Session | undefined
    /** How the request authenticated; cookie writes need an allowed Origin. */
    credential: 'cookie' | 'bearer' | undefined
  }
}

/** Reads the session token of a request: the bearer token first, then the cookie. */
export function readCredential(
  c: Context<AppEnv>,
): { token: string; kind: 'cookie' | 'bearer' } | undefined {
  const header = c.req.header('authorization')
  if (header?.toLowerCase().startsWith('bearer ')) {
    return { token: header.slice(7).trim(), kind: 'bearer' }
  }
  const cookie = getCookie(c, SESSION_COOKIE)
  return cookie ? { token: cookie, kind: 'cookie' } : undefined
}

/** Returns the session of the request or throws not_authenticated. */
export function requireSession(c: Context<AppEnv>): Session {
  const session = c.get('session')
  if (!session) throw new ApiError('not_authenticated', 'log in first: no valid session')
  return session
}

/** Returns whether the request came over HTTPS, directly or through a proxy. */
export function isHttps(c: Context<AppEnv>): boolean {
  const forwarded = c.req.header('x-forwarded-proto')
  if (forwarded) return forwarded.split(',')[0]?.trim() === 'https'
  return new URL(c.req.url).protocol === 'https:'
}
