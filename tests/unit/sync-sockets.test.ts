import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import type { WebSocket } from 'ws'
import { HEARTBEAT_MS, SyncSockets } from '../../sync-server/sync/sync-sockets.ts'

/** A stand-in for a ws socket that counts pings and records how it was ended. */
class FakeSocket extends EventEmitter {
  pings = 0
  terminated = false
  closedWith: [number, string] | undefined

  ping(): void {
    this.pings++
  }

  terminate(): void {
    this.terminated = true
  }

  close(code: number, reason: string): void {
    this.closedWith = [code, reason]
  }

  /** Emits a pong the way ws reports one from the peer. */
  pong(): void {
    this.emit('pong', Buffer.alloc(0))
  }
}

function track(sockets: SyncSockets): FakeSocket {
  const socket = new FakeSocket()
  sockets.add(socket as unknown as WebSocket)
  return socket
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

it('pings every socket once per interval', () => {
  const sockets = new SyncSockets()
  const first = track(sockets)
  const second = track(sockets)

  vi.advanceTimersByTime(HEARTBEAT_MS)

  expect(first.pings).toBe(1)
  expect(second.pings).toBe(1)
})

it('spreads the pings of a round over the interval', () => {
  const sockets = new SyncSockets()
  const tracked = Array.from({ length: 100 }, () => track(sockets))
  const pinged = () => tracked.filter((socket) => socket.pings > 0).length

  vi.advanceTimersByTime(HEARTBEAT_MS / 10)
  expect(pinged()).toBe(10)
  vi.advanceTimersByTime(HEARTBEAT_MS - HEARTBEAT_MS / 10)

  expect(tracked.map((socket) => socket.pings)).toEqual(tracked.map(() => 1))
})

it('terminates a socket silent since the last ping', () => {
  const sockets = new SyncSockets()
  const silent = track(sockets)

  vi.advanceTimersByTime(HEARTBEAT_MS)
  expect(silent.terminated).toBe(false)
  vi.advanceTimersByTime(HEARTBEAT_MS)

  expect(silent.terminated).toBe(true)
})

it('keeps a socket that answers pings', () => {
  const sockets = new SyncSockets()
  const answering = track(sockets)

  for (let round = 0; round < 4; round++) {
    vi.advanceTimersByTime(HEARTBEAT_MS)
    answering.pong()
  }

  expect(answering.terminated).toBe(false)
  expect(answering.pings).toBe(4)
})

it('keeps a socket that sends messages without pongs', () => {
  const sockets = new SyncSockets()
  const sending = track(sockets)

  for (let round = 0; round < 4; round++) {
    vi.advanceTimersByTime(HEARTBEAT_MS)
    sockets.markAlive(sending as unknown as WebSocket)
  }

  expect(sending.terminated).toBe(false)
})

it('tells apart a silent and an answering socket', () => {
  const sockets = new SyncSockets()
  const silent = track(sockets)
  const answering = track(sockets)

  vi.advanceTimersByTime(HEARTBEAT_MS)
  answering.pong()
  vi.advanceTimersByTime(HEARTBEAT_MS)

  expect(silent.terminated).toBe(true)
  expect(answering.terminated).toBe(false)
})

it('stops pinging a deleted socket and its timer', () => {
  const sockets = new SyncSockets()
  const closed = track(sockets)

  sockets.delete(closed as unknown as WebSocket)
  vi.advanceTimersByTime(3 * HEARTBEAT_MS)

  expect(closed.pings).toBe(0)
  expect(sockets.size).toBe(0)
  expect(vi.getTimerCount()).toBe(0)
})

it('closes every socket with the reason', () => {
  const sockets = new SyncSockets()
  const first = track(sockets)
  const second = track(sockets)

  sockets.closeAll(1012, 'server_restarting')

  expect(first.closedWith).toEqual([1012, 'server_restarting'])
  expect(second.closedWith).toEqual([1012, 'server_restarting'])
  expect(vi.getTimerCount()).toBe(0)
})
