import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { parse as parseCookie } from 'hono/utils/cookie'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import { SESSION_COOKIE } from '../http/auth-context.ts'
import { clientValueForLog, type Logger } from '../observability/logger.ts'
import { DocumentMessageGate, type SocketClient } from './late-messages.ts'
import {
  MAX_SYNC_STEP_BYTES,
  MAX_UPDATE_BYTES,
  type SyncContext,
  type SyncEngine,
} from './sync-engine.ts'

/** Path of the sync WebSocket. */
export const SYNC_PATH = '/sync'

/**
 * Returns the largest WebSocket frame in bytes that reaches the sync hooks, which refuse an
 * update over its limit with the too_large reason, so that a message somewhat over a limit
 * gets that reason. ws closes a larger frame with code 1009, which ends the whole socket.
 */
export function frameLimit(maxUpdateBytes: number, maxSyncStepBytes: number): number {
  return Math.max(2 * maxUpdateBytes, maxSyncStepBytes + maxUpdateBytes) + 64 * 1024
}

/**
 * Returns the handler of the HTTP server's upgrade event. Only /sync upgrades, and only from
 * an allowed Origin when one is sent; any other request gets its status and a closed socket.
 * The handler never throws, because an exception there would end the process.
 */
export function createUpgradeHandler(
  engine: SyncEngine,
  allowedOrigins: string[],
  logger: Logger,
  maxFrameBytes = frameLimit(MAX_UPDATE_BYTES, MAX_SYNC_STEP_BYTES),
): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes })

  const logSocketError = (error: Error) =>
    logger.warn({ event: 'socket_error', err: error }, 'WebSocket error')
  let routingMissing = false
  const createGate = (client: SocketClient): DocumentMessageGate => {
    const gate = new DocumentMessageGate(client)
    if (!gate.checking && !routingMissing) {
      routingMissing = true
      logger.warn(
        { event: 'message_gate_unavailable' },
        'this Hocuspocus version hides which documents a socket has, so messages pass unchecked',
      )
    }
    return gate
  }
  const logDropped = () =>
    logger.debug({ event: 'late_message_dropped' }, 'dropped a message for a closed document')

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
      const context: SyncContext = cookieToken ? { cookieToken } : {}
      const syncRequest = url.search
        ? new Request(`http://localhost${SYNC_PATH}${url.search}`)
        : plainSyncRequest
      wss.handleUpgrade(request, socket, head, (ws) =>
        attachSocket(engine, ws, syncRequest, context, { logSocketError, createGate, logDropped }),
      )
    } catch (error) {
      logger.error({ event: 'upgrade_failed', err: error }, 'failed to upgrade a WebSocket')
      socket.destroy()
    }
  }
}

/**
 * The request that Hocuspocus receives for a plain /sync upgrade, shared by all connections.
 * It carries no headers because Parley's hooks read none: the origin and the session cookie
 * are checked above. A Request of its own costs each idle connection about 1 KiB of heap
 * (heap snapshot, Node 24). NOTE: a hook that wrote to `requestHeaders` would change them for
 * every connection.
 */
const plainSyncRequest = new Request(`http://localhost${SYNC_PATH}`)

/**
 * Hands an upgraded socket to Hocuspocus. It is a function of its own so that the socket's
 * listeners retain only the socket and its Hocuspocus client, not the upgrade request.
 */
function attachSocket(
  engine: SyncEngine,
  ws: WebSocket,
  request: Request,
  context: SyncContext,
  handlers: {
    logSocketError: (error: Error) => void
    createGate: (client: SocketClient) => DocumentMessageGate
    logDropped: () => void
  },
): void {
  engine.sockets.add(ws)
  const client = engine.hocuspocus.handleConnection(ws, request, context)
  const gate = handlers.createGate(client)
  ws.on('message', (data: RawData) => {
    engine.sockets.markAlive(ws)
    if (gate.receive(toBytes(data)) === 'dropped') handlers.logDropped()
  })
  ws.on('close', (code, reason) => {
    engine.sockets.delete(ws)
    client.handleClose({ code, reason: reason.toString() })
  })
  ws.on('error', handlers.logSocketError)
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
