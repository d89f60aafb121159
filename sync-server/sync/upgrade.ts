import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { parse as parseCookie } from 'hono/utils/cookie'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import { SESSION_COOKIE } from '../http/auth-context.ts'
import { clientValueForLog, type Logger } from '../observability/logger.ts'
import { MAX_UPDATE_BYTES, type SyncContext, type SyncEngine } from './sync-engine.ts'

/** Path of the sync WebSocket. */
export const SYNC_PATH = '/sync'

/**
 * Returns the handler of the HTTP server's upgrade event. Only /sync upgrades, and only from
 * an allowed Origin when one is sent; any other request gets its status and a closed socket.
 * The handler never throws, because an exception there would end the process.
 */
export function createUpgradeHandler(
  engine: SyncEngine,
  allowedOrigins: string[],
  logger: Logger,
  maxUpdateBytes = MAX_UPDATE_BYTES,
): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  // Frames up to twice the update limit reach the sync hook, which refuses an oversized
  // update with the too_large reason; larger frames are closed by ws with code 1009.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * maxUpdateBytes + 64 * 1024 })

  return (request, socket, head) => {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost')
      if (url.pathname !== SYNC_PATH) return reject(socket, 404, 'Not Found')
      const origin = request.headers.origin
      if (origin !== undefined && !allowedOrigins.includes(origin)) {
        logger.info(
          { event: 'upgrade_rejected', origin: clientValueForLog(origin) },
          'rejected a WebSocket from a foreign origin',
        )
        return reject(socket, 403, 'Forbidden')
      }
      const cookieToken = parseCookie(request.headers.cookie ?? '', SESSION_COOKIE)[SESSION_COOKIE]
      wss.handleUpgrade(request, socket, head, (ws) => {
        engine.trackSocket(ws)
        const fetchRequest = new Request(`http://localhost${url.pathname}${url.search}`, {
          headers: toHeaders(request.headers),
        })
        const context: SyncContext = { cookieToken }
        const client = engine.hocuspocus.handleConnection(ws, fetchRequest, context)
        const heartbeat = startHeartbeat(ws)
        ws.on('message', (data: RawData) => {
          heartbeat.alive = true
          client.handleMessage(toBytes(data))
        })
        ws.on('close', (code, reason) => {
          clearInterval(heartbeat.timer)
          client.handleClose({ code, reason: reason.toString() })
        })
        ws.on('error', (error) =>
          logger.warn({ event: 'socket_error', err: error }, 'WebSocket error'),
        )
      })
    } catch (error) {
      logger.error({ event: 'upgrade_failed', err: error }, 'failed to upgrade a WebSocket')
      socket.destroy()
    }
  }
}

/** Interval of WebSocket pings, in milliseconds; a socket silent for two is ended. */
export const HEARTBEAT_MS = 5_000

/**
 * Pings a socket at the protocol level, which browsers answer without any code, and ends it
 * when neither a pong nor a message came since the last ping. So a killed browser's presence
 * goes within about ten seconds, where Hocuspocus alone waits for its 30 s timeout.
 */
function startHeartbeat(ws: WebSocket): { alive: boolean; timer: NodeJS.Timeout } {
  const state = { alive: true, timer: undefined as unknown as NodeJS.Timeout }
  ws.on('pong', () => {
    state.alive = true
  })
  state.timer = setInterval(() => {
    if (!state.alive) {
      ws.terminate()
      return
    }
    state.alive = false
    ws.ping()
  }, HEARTBEAT_MS)
  state.timer.unref()
  return state
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

function toHeaders(headers: IncomingMessage['headers']): Headers {
  const result = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    result.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  return result
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
