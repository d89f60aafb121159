import type { Context } from 'hono'
import { Hono } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { credentialsBody, signupBody, updateMeBody } from '../../shared/api.ts'
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../auth/password.ts'
import { SESSION_LIFETIME_MS } from '../auth/session-token.ts'
import { ApiError } from './api-error.ts'
import { type AppEnv, SESSION_COOKIE, isHttps, requireSession } from './auth-context.ts'
import { parseBody } from './parse-body.ts'
import { RateLimiter } from './rate-limiter.ts'
import type { Services } from './services.ts'

/** Routes for signup, login, logout, tokens and the caller's own profile. */
export function authRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  // Counting attempts per client address and per username slows down password guessing.
  const attempts = new RateLimiter(services.config.authAttemptsPerMinute, 60_000)

  const limit = (key: string) => {
    const result = attempts.hit(key)
    if (!result.ok) {
      throw new ApiError(
        'rate_limited',
        'too many attempts; try again later',
        result.retryAfterSeconds,
      )
    }
  }

  const login = async (c: Context<AppEnv>, kind: 'cookie' | 'token') => {
    const body = await parseBody(c, credentialsBody)
    limit(`address:${clientAddress(c, services.config.trustProxy)}`)
    limit(`user:${body.username.toLowerCase()}`)
    const found = await services.users.findForLogin(body.username)
    if (!found) await verifyAgainstDummy(body.password)
    if (!found || !(await verifyPassword(found.passwordHash, body.password))) {
      throw new ApiError('not_authenticated', 'wrong username or password')
    }
    return { user: found.user, ...(await services.sessions.create(found.user.id, kind)) }
  }

  app.post('/signup', async (c) => {
    const body = await parseBody(c, signupBody)
    limit(`address:${clientAddress(c, services.config.trustProxy)}`)
    const created = await services.users.create({
      username: body.username,
      displayName: body.displayName ?? body.username,
      passwordHash: await hashPassword(body.password),
    })
    if (!created.ok) throw new ApiError('conflict', `the username "${body.username}" is taken`)
    const { token } = await services.sessions.create(created.user.id, 'cookie')
    setSessionCookie(c, token)
    services.logger.info({ event: 'user_created', userId: created.user.id }, 'user created')
    return c.json({ user: created.user }, 201)
  })

  app.post('/login', async (c) => {
    const { user, token } = await login(c, 'cookie')
    setSessionCookie(c, token)
    return c.json({ user })
  })

  app.post('/token', async (c) => {
    const { token, session } = await login(c, 'token')
    return c.json({ token, expiresAt: session.expiresAt.toISOString() }, 201)
  })

  app.post('/logout', async (c) => {
    const session = requireSession(c)
    await services.sessions.revoke(session.id)
    await services.sync.closeSession(session.id)
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) })
    return c.body(null, 204)
  })

  return app
}

/** Routes of the caller's own profile, mounted at /api/me. */
export function meRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => {
    const user = await services.users.findById(requireSession(c).userId)
    if (!user) throw new ApiError('not_authenticated', 'the account of this session is gone')
    return c.json({ user })
  })

  app.patch('/', async (c) => {
    const session = requireSession(c)
    const body = await parseBody(c, updateMeBody)
    const user = await services.users.updateDisplayName(session.userId, body.displayName)
    if (!user) throw new ApiError('not_authenticated', 'the account of this session is gone')
    return c.json({ user })
  })

  return app
}

/** Sets the session cookie with a Max-Age of one full session lifetime. */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: isHttps(c),
    maxAge: Math.floor(SESSION_LIFETIME_MS / 1000),
  })
}

/**
 * Returns the address that rate limits count. Behind a trusted proxy it is the last
 * X-Forwarded-For entry, the one the proxy appended: earlier entries come from the client.
 */
function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (forwarded) return forwarded
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)
    ?.incoming
  return incoming?.socket?.remoteAddress ?? 'unknown'
}
