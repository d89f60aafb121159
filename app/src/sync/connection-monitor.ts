import type { HocuspocusProviderWebsocket, onStatusParameters } from '@hocuspocus/provider'
import { WebSocketStatus } from '@hocuspocus/provider'
import { Listeners } from './listeners.ts'

/** Connection state to the sync server, as shown to the user. */
export type ConnectionState = 'online' | 'connecting' | 'offline'

/**
 * Derives the connection state from navigator.onLine and the shared sync socket.
 * A socket that closes after being open shows as connecting while it reconnects. An attempt
 * that fails shows as offline, which stays through the provider's retries so the banner does
 * not flicker between offline and connecting while the server is down.
 */
export class ConnectionMonitor {
  private readonly listeners = new Listeners()
  private state: ConnectionState
  private socketStatus: WebSocketStatus
  private lastAttemptFailed = false
  private wasOpen = false

  constructor(private readonly socket: HocuspocusProviderWebsocket) {
    this.socketStatus = socket.status
    this.state = this.deriveState()
    socket.on('status', this.handleStatus)
    socket.on('disconnect', this.handleDisconnect)
    window.addEventListener('online', this.handleBrowserOnline)
    window.addEventListener('offline', this.update)
  }

  subscribe = this.listeners.subscribe

  getSnapshot = (): ConnectionState => this.state

  destroy(): void {
    this.socket.off('status', this.handleStatus)
    this.socket.off('disconnect', this.handleDisconnect)
    window.removeEventListener('online', this.handleBrowserOnline)
    window.removeEventListener('offline', this.update)
    this.listeners.clear()
  }

  private handleStatus = ({ status }: onStatusParameters): void => {
    this.socketStatus = status
    if (status === WebSocketStatus.Connected) {
      this.lastAttemptFailed = false
      this.wasOpen = true
    }
    this.update()
  }

  private handleDisconnect = (): void => {
    this.lastAttemptFailed = !this.wasOpen
    this.wasOpen = false
    this.update()
  }

  // The provider's backoff grows to 30 s (its default maxDelay), so a browser that regains
  // its network starts an attempt at once.
  private handleBrowserOnline = (): void => {
    this.update()
    if (this.socketStatus !== WebSocketStatus.Connected) void this.socket.connect()
  }

  private update = (): void => {
    const next = this.deriveState()
    if (next === this.state) return
    this.state = next
    this.listeners.notify()
  }

  private deriveState(): ConnectionState {
    if (!navigator.onLine) return 'offline'
    switch (this.socketStatus) {
      case WebSocketStatus.Connected:
        return 'online'
      case WebSocketStatus.Connecting:
      case WebSocketStatus.Disconnected:
        return this.lastAttemptFailed ? 'offline' : 'connecting'
    }
  }
}
