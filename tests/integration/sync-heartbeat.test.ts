import { afterAll, beforeAll, expect, it } from 'vitest'
import WebSocket from 'ws'
import { HEARTBEAT_MS } from '../../sync-server/sync/sync-sockets.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.stop()
  await server.database.drop()
})

function open(autoPong: boolean): Promise<{ socket: WebSocket; closedAt: Promise<number> }> {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/sync`, { autoPong })
  const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())))
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, closedAt }))
    socket.once('error', reject)
  })
}

it('ends a socket that stops answering pings', { timeout: 30_000 }, async () => {
  const started = Date.now()
  const silent = await open(false)
  const answering = await open(true)

  const closedAt = await silent.closedAt
  expect(closedAt - started).toBeLessThan(3 * HEARTBEAT_MS)
  expect(answering.socket.readyState).toBe(WebSocket.OPEN)
  answering.socket.close()
})
