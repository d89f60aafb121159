import type { WebSocket } from 'ws'

/** Interval of WebSocket pings, in milliseconds. A socket silent for two intervals is terminated. */
export const HEARTBEAT_MS = 5_000

/** Timer firings per interval, each of which pings a share of the sockets. */
const SLICES = 10

/**
 * The upgraded sync sockets of this instance, so that stop can close them, and their
 * heartbeat. It pings every socket at the protocol level, to which browsers reply with a pong
 * without any code, and terminates a socket that sent neither a pong nor a message since the
 * previous ping. So a killed browser's presence goes within about ten seconds, where
 * Hocuspocus alone waits for its 30 s timeout.
 *
 * One timer and one shared pong listener serve every socket, so that an idle connection
 * costs set entries rather than a timer, closures and a state object of its own. The timer
 * fires ten times per interval and visits a tenth of the sockets each time, so that a server
 * with many sockets does not stall the event loop for all of them at once.
 */
export class SyncSockets {
  private readonly open = new Set<WebSocket>()
  /** Sockets pinged by the last round that have sent nothing since. */
  private readonly silent = new Set<WebSocket>()
  private readonly markPong: (this: WebSocket) => void
  private timer: NodeJS.Timeout | undefined
  /** Position in the current round of pings, or undefined between rounds. */
  private round: Iterator<WebSocket> | undefined
  private ticks = 0
  private nextRoundAt = 0

  constructor(private readonly intervalMs = HEARTBEAT_MS) {
    const silent = this.silent
    // EventEmitter calls a listener with the socket as `this`, so one function serves all.
    this.markPong = function (this: WebSocket) {
      silent.delete(this)
    }
  }

  get size(): number {
    return this.open.size
  }

  /** Tracks a socket until `delete` is called. Its first ping goes out within one interval. */
  add(socket: WebSocket): void {
    this.open.add(socket)
    socket.on('pong', this.markPong)
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs / SLICES)
      this.timer.unref()
    }
  }

  /** Stops tracking a closed socket. */
  delete(socket: WebSocket): void {
    this.open.delete(socket)
    this.silent.delete(socket)
    if (this.open.size === 0) this.stopTimer()
  }

  /** Records that a socket sent a message, which counts as a reply to the last ping. */
  markAlive(socket: WebSocket): void {
    this.silent.delete(socket)
  }

  /** Closes every socket with the code and reason, and stops the heartbeat. */
  closeAll(code: number, reason: string): void {
    this.stopTimer()
    for (const socket of this.open) socket.close(code, reason)
  }

  // A round visits every socket once and starts at most once per interval, so that each
  // socket has an interval to reply. Sockets added during a round join it at its end.
  private tick(): void {
    this.ticks++
    if (!this.round) {
      if (this.ticks < this.nextRoundAt) return
      this.round = this.open.values()
      this.nextRoundAt = this.ticks + SLICES
    }
    for (let budget = Math.ceil(this.open.size / SLICES); budget > 0; budget--) {
      const next = this.round.next()
      if (next.done) {
        this.round = undefined
        return
      }
      this.visit(next.value)
    }
  }

  private visit(socket: WebSocket): void {
    if (this.silent.has(socket)) {
      // ws emits close after terminate, and the upgrade handler's close listener calls delete.
      socket.terminate()
      return
    }
    this.silent.add(socket)
    socket.ping()
  }

  private stopTimer(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.round = undefined
  }
}
