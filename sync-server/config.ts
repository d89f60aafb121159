import path from 'node:path'

/** Settings read from the environment; see the README for each variable. */
export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  dataDir: string
  /** Origins allowed to send cookie-authenticated writes and WebSocket upgrades. */
  publicOrigins: string[]
  /** Directory of the built app; undefined serves the API only. */
  appDir: string | undefined
  logLevel: string
  /** Login and signup attempts allowed per minute, per client address and per username. */
  authAttemptsPerMinute: number
  /** Largest document update one sync message may carry, in bytes. */
  maxUpdateBytes: number
}

/** Reads the configuration; throws a RangeError naming the variable when a value is invalid. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT ?? '3000')
  const host = env.HOST ?? '127.0.0.1'
  const origins = env.PUBLIC_ORIGIN?.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  return {
    port,
    host,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    publicOrigins: origins?.length ? origins : defaultOrigins(host, port),
    appDir: path.resolve(env.APP_DIR ?? 'app/dist'),
    logLevel: env.LOG_LEVEL ?? 'info',
    maxUpdateBytes: parsePositive('MAX_UPDATE_BYTES', env.MAX_UPDATE_BYTES ?? String(1024 * 1024)),
    authAttemptsPerMinute: parsePositive(
      'AUTH_ATTEMPTS_PER_MINUTE',
      env.AUTH_ATTEMPTS_PER_MINUTE ?? '30',
    ),
  }
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`PORT must be an integer from 0 to 65535, got "${value}"`)
  }
  return port
}

function parsePositive(name: string, value: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new RangeError(`${name} must be a positive integer, got "${value}"`)
  }
  return parsed
}

function defaultOrigins(host: string, port: number): string[] {
  const hostForUrl = host.includes(':') ? `[${host}]` : host
  return [`http://${hostForUrl}:${port}`, `http://localhost:${port}`]
}
