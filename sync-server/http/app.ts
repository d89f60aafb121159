import fs from 'node:fs'
import path from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { newId } from '../../shared/ids.ts'
import { HTTP_STATUS, type ErrorBody } from '../../shared/errors.ts'
import { ApiError } from './api-error.ts'
import { type AppEnv, readCredential } from './auth-context.ts'
import { authRoutes, meRoutes, setSessionCookie } from './auth-routes.ts'
import { conversationRoutes } from './conversation-routes.ts'
import type { Services } from './services.ts'

/** Largest JSON body the API reads. */
const MAX_BODY_BYTES = 64 * 1024

/** Builds the HTTP application: REST API, health, metrics and the built app. */
export function createHttpApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const log = services.logger.child({ subsystem: 'http' })

  app.use(async (c, next) => {
    c.set('requestId', newId())
    const started = performance.now()
    await next()
    const route = c.req.routePath || 'unmatched'
    services.metrics.httpRequests.inc({ method: c.req.method, route, status: c.res.status })
    if (c.req.path.startsWith('/api/')) {
      log.debug({
        event: 'request',
        method: c.req.method,
        route,
        status: c.res.status,
        durationMs: Math.round(performance.now() - started),
      })
    }
  })

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const ready = await services.checkReady()
    return c.json({ status: ready ? 'ready' : 'unavailable' }, ready ? 200 : 503)
  })
  app.get('/metrics', async (c) => {
    c.header('content-type', services.metrics.registry.contentType)
    return c.body(await services.metrics.registry.metrics())
  })

  const api = new Hono<AppEnv>()
  api.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError('too_large', `the body is over the limit of ${MAX_BODY_BYTES} bytes`)
      },
    }),
  )
  api.use(async (c, next) => {
    const credential = readCredential(c)
    checkOrigin(
      c.req.method,
      c.req.header('origin'),
      credential?.kind,
      services.config.publicOrigins,
    )
    const session = credential ? await services.sessions.validate(credential.token) : undefined
    // A renewed session needs a renewed cookie too, or the browser drops it at its old Max-Age.
    if (session?.renewed && credential?.kind === 'cookie') setSessionCookie(c, credential.token)
    c.set('session', session)
    c.set('credential', session ? credential?.kind : undefined)
    await next()
  })
  api.route('/auth', authRoutes(services))
  api.route('/me', meRoutes(services))
  api.route('/', conversationRoutes(services))
  api.all('*', () => {
    throw new ApiError('not_found', 'no such endpoint')
  })
  app.route('/api', api)

  if (!mountApp(app, services.config.appDir) && services.config.appDir) {
    log.warn(
      { event: 'app_missing', appDir: services.config.appDir },
      `no built app in ${services.config.appDir}; run npm run build:app (npm start does it)`,
    )
  }

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds) c.header('Retry-After', String(error.retryAfterSeconds))
      return c.json(errorBody(error.code, error.message), error.status as 400)
    }
    const requestId = c.get('requestId')
    log.error({ event: 'request_failed', err: error, requestId, route: c.req.routePath })
    return c.json(
      { error: { code: 'internal', message: 'unexpected error; it was logged', requestId } },
      HTTP_STATUS.internal as 500,
    )
  })
  return app
}

/**
 * Rejects browser requests that could be cross-site: a cookie-authenticated write must carry
 * an allowed Origin, and any request with a foreign Origin is refused.
 */
function checkOrigin(
  method: string,
  origin: string | undefined,
  credential: 'cookie' | 'bearer' | undefined,
  allowed: string[],
): void {
  if (method === 'GET' || method === 'HEAD') return
  if (origin !== undefined && !allowed.includes(origin)) {
    throw new ApiError('forbidden', `the origin ${origin} is not allowed; set PUBLIC_ORIGIN`)
  }
  if (origin === undefined && credential === 'cookie') {
    throw new ApiError('forbidden', 'a request authenticated by cookie must carry an Origin header')
  }
}

function errorBody(code: ErrorBody['error']['code'], message: string): ErrorBody {
  return { error: { code, message } }
}

/** Serves the built app, with index.html for client-side routes; returns false without one. */
function mountApp(app: Hono<AppEnv>, appDir: string | undefined): boolean {
  if (!appDir || !fs.existsSync(path.join(appDir, 'index.html'))) return false
  const cacheControl = (file: string, c: { header(name: string, value: string): void }) => {
    const immutable = file.includes(`${path.sep}assets${path.sep}`)
    c.header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
  }
  app.use('*', serveStatic({ root: appDir, onFound: cacheControl }))
  app.get('*', serveStatic({ root: appDir, path: 'index.html', onFound: cacheControl }))
  return true
}
