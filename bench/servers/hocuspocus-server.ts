/**
 * Bare Hocuspocus 4: no extensions, no authentication, no storage. It takes its sockets
 * from a `ws` server through `handleConnection`, the transport Parley uses, so that a
 * comparison with Parley measures what Parley adds on top of Hocuspocus.
 *
 * Environment: PORT, HOST, FLUSH_DELAY (Hocuspocus `flushDelay` in ms, or `false`; 0 by
 * default, which coalesces broadcasts within one event-loop turn).
 */
import http from 'node:http'
import { Hocuspocus } from '@hocuspocus/server'
import { WebSocketServer, type RawData } from 'ws'

const port = Number(process.env.PORT ?? 0)
const host = process.env.HOST ?? '127.0.0.1'
const flushDelay =
  process.env.FLUSH_DELAY === 'false' ? false : Number(process.env.FLUSH_DELAY ?? 0)

const hocuspocus = new Hocuspocus({ name: null, quiet: true, flushDelay })
const wss = new WebSocketServer({ noServer: true })
const server = http.createServer((_request, response) => response.end('ok'))

server.on('upgrade', (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => {
    const fetchRequest = new Request(`http://localhost${request.url ?? '/'}`)
    const client = hocuspocus.handleConnection(ws, fetchRequest, {})
    ws.on('message', (data: RawData) => client.handleMessage(toBytes(data)))
    ws.on('close', (code, reason) => client.handleClose({ code, reason: reason.toString() }))
  })
})

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

server.listen(port, host)
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate()
  server.close(() => process.exit(0))
})
