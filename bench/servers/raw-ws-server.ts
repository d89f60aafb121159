/**
 * The floor of the fan-out comparison: a `ws` server that relays every binary message to
 * every socket of the same room (the URL path), the sender included as Hocuspocus does. It
 * never parses what it relays. Clients frame each document update with a 4-byte length, so
 * a batch is the concatenation of the frames that arrived in one event-loop turn.
 *
 * Environment: PORT, HOST, BATCH (`none` sends each message at once; `tick` coalesces a
 * room's messages until setImmediate runs, as Hocuspocus does with `flushDelay: 0`).
 */
import http from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'

const port = Number(process.env.PORT ?? 0)
const host = process.env.HOST ?? '127.0.0.1'
const batching = process.env.BATCH === 'tick'

interface Room {
  sockets: Set<WebSocket>
  pending: Buffer[]
  flushScheduled: boolean
}

const rooms = new Map<string, Room>()

function roomOf(name: string): Room {
  let room = rooms.get(name)
  if (!room) {
    room = { sockets: new Set(), pending: [], flushScheduled: false }
    rooms.set(name, room)
  }
  return room
}

function sendToAll(room: Room, frame: Buffer): void {
  for (const socket of room.sockets) socket.send(frame)
}

function flush(room: Room): void {
  room.flushScheduled = false
  const frame = room.pending.length === 1 ? room.pending[0] : Buffer.concat(room.pending)
  room.pending = []
  if (frame) sendToAll(room, frame)
}

function relay(room: Room, frame: Buffer): void {
  if (!batching) return sendToAll(room, frame)
  room.pending.push(frame)
  if (room.flushScheduled) return
  room.flushScheduled = true
  setImmediate(() => flush(room))
}

const server = http.createServer((_request, response) => response.end('ok'))
const wss = new WebSocketServer({ server })
wss.on('connection', (socket, request) => {
  const name = request.url ?? '/'
  const room = roomOf(name)
  room.sockets.add(socket)
  socket.on('message', (data: Buffer) => relay(room, data))
  socket.on('close', () => {
    room.sockets.delete(socket)
    if (room.sockets.size === 0 && room.pending.length === 0) rooms.delete(name)
  })
})

server.listen(port, host)
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate()
  server.close(() => process.exit(0))
})
