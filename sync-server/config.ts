import path from 'node:path'
import { DEFAULT_SEGMENT_MESSAGES } from '../shared/chat-document.ts'
import { DEFAULT_COMMIT_INTERVAL_MS } from './sync/update-log.ts'

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
  /**
   * Largest sync step 2 in bytes: what a client sends on connecting, every change it made
   * offline in one message. Never below maxUpdateBytes.
   */
  maxSyncStepBytes: number
  /** Whether updates are acknowledged only after their commit; off only to test loss. */
  durableAck: boolean
  /** Whether a reverse proxy sets X-Forwarded-For, so rate limits count the client behind it. */
  trustProxy: boolean
  /** Messages after which the server closes a conversation's open history segment. */
  segmentMessages: number
  /** Shortest time between the starts of two update log commits under load, in ms. */
  commitIntervalMs: number
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

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
    databaseUrl: parseUrl('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:']),
    redisUrl: parseUrl('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']),
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    publicOrigins: origins?.length ? origins : defaultOrigins(host, port),
    appDir: path.resolve(env.APP_DIR ?? 'app/dist'),
    logLevel: parseLogLevel(env.LOG_LEVEL ?? 'info'),
    trustProxy: parseBoolean('TRUST_PROXY', env.TRUST_PROXY ?? 'false'),
    durableAck: parseBoolean('DURABLE_ACK', env.DURABLE_ACK ?? 'true'),
    maxUpdateBytes: parsePositive('MAX_UPDATE_BYTES', env.MAX_UPDATE_BYTES ?? String(1024 * 1024)),
    maxSyncStepBytes: parsePositive(
      'MAX_SYNC_STEP_BYTES',
      env.MAX_SYNC_STEP_BYTES ?? String(8 * 1024 * 1024),
    ),
    authAttemptsPerMinute: parsePositive(
      'AUTH_ATTEMPTS_PER_MINUTE',
      env.AUTH_ATTEMPTS_PER_MINUTE ?? '30',
    ),
    segmentMessages: parsePositive(
      'SEGMENT_MESSAGES',
      env.SEGMENT_MESSAGES ?? String(DEFAULT_SEGMENT_MESSAGES),
    ),
    commitIntervalMs: parseNonNegative(
      'COMMIT_INTERVAL_MS',
      env.COMMIT_INTERVAL_MS ?? String(DEFAULT_COMMIT_INTERVAL_MS),
    ),
  }
}

function parsePort(value: string): number {
  const port = /^[0-9]{1,5}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`PORT must be an integer from 0 to 65535, got "${value}"`)
  }
  return port
}

function parseUrl(
  name: string,
  value: string | undefined,
  protocols: string[],
): string | undefined {
  if (!value) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new RangeError(
      `${name} must be a URL such as ${protocols[0]}//host:port/..., got an invalid value`,
    )
  }
  if (!protocols.includes(url.protocol)) {
    throw new RangeError(
      `${name} must start with ${protocols.join(' or ')}//, got ${url.protocol}//`,
    )
  }
  return value
}

function parseLogLevel(value: string): string {
  if (!LOG_LEVELS.includes(value)) {
    throw new RangeError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`)
  }
  return value
}

function parseBoolean(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0' || value === '') return false
  throw new RangeError(`${name} must be true or false, got "${value}"`)
}

function parsePositive(name: string, value: string): number {
  const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new RangeError(`${name} must be a positive integer, got "${value}"`)
  }
  return parsed
}

/** Parses an integer from 0 to 1000, such as a delay in ms that 0 switches off. */
function parseNonNegative(name: string, value: string): number {
  const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(parsed) || parsed > 1000) {
    throw new RangeError(`${name} must be an integer from 0 to 1000, got "${value}"`)
  }
  return parsed
}

function defaultOrigins(host: string, port: number): string[] {
  const hostForUrl = host.includes(':') ? `[${host}]` : host
  return [`http://${hostForUrl}:${port}`, `http://localhost:${port}`]
}
