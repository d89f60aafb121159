import type { HocuspocusProviderWebsocket, onCloseParameters } from '@hocuspocus/provider'
import { HocuspocusProvider, WebSocketStatus } from '@hocuspocus/provider'
import type * as Y from 'yjs'
import type { CloseReason } from '../../../shared/errors.ts'
import { parseCloseReason } from '../../../shared/errors.ts'

/** Callbacks through which a DocumentConnection reports what the server did. */
export interface ConnectionEvents {
  /** A new provider, with a new awareness, is attached. */
  onAttached: () => void
  onAuthenticated: () => void
  /** The server sent its state of the document for the first time on this connection. */
  onSynced: () => void
  /** The server has stored every change sent so far. */
  onSettled: () => void
  /** The server rejected or closed the document. `reason` is undefined for an unknown one. */
  onClosed: (reason: CloseReason | undefined) => void
}

export interface DocumentConnectionOptions {
  documentName: string
  socket: HocuspocusProviderWebsocket
  /** Returns the Y.Doc to sync, which changes when the local copy is replaced. */
  document: () => Y.Doc
  events: ConnectionEvents
}

// Delays in milliseconds between attempts after rate_limited or an unexplained close.
const RETRY_BASE_MS = 2_000
const RETRY_MAX_MS = 60_000

/**
 * The HocuspocusProvider of one document on the shared socket: attaches it, reports the
 * server's sync, acknowledgement and close messages, retries with backoff and detaches it.
 * Events of a provider that was replaced or detached are dropped.
 */
export class DocumentConnection {
  private provider: HocuspocusProvider | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private retryCount = 0
  private destroyed = false

  constructor(private readonly options: DocumentConnectionOptions) {}

  /** Awareness of the current provider, or null while not syncing. */
  get awareness(): HocuspocusProvider['awareness'] {
    return this.provider?.awareness ?? null
  }

  /** True while the provider is connected and has finished its sync handshake. */
  get isSyncedNow(): boolean {
    return this.provider?.isSynced === true
  }

  connect(): void {
    const provider: HocuspocusProvider = new HocuspocusProvider({
      websocketProvider: this.options.socket,
      name: this.options.documentName,
      document: this.options.document(),
      // The server authenticates the browser by its session cookie during the upgrade; the
      // protocol still requires a non-empty token.
      token: 'cookie',
      onAuthenticated: () => this.ifCurrent(provider, this.options.events.onAuthenticated),
      onAuthenticationFailed: ({ reason }) => this.handleCloseReason(provider, reason),
      onSynced: () => this.ifCurrent(provider, this.options.events.onSynced),
      onClose: (event) => this.handleClose(provider, event),
      onUnsyncedChanges: ({ number }) => this.handleUnsyncedChanges(provider, number),
    })
    this.provider = provider
    provider.attach()
    this.options.events.onAttached()
  }

  /** Connects again after a delay that grows with each retry in a row. */
  scheduleRetry(): void {
    this.stop()
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.retryCount)
    this.retryCount += 1
    // Jitter spreads the retries of many clients that were limited at the same moment.
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined
        if (!this.destroyed) this.connect()
      },
      delay * (0.5 + Math.random() / 2),
    )
  }

  /**
   * Detaches the provider without telling the server, which has already closed or rejected
   * this document. A close message sent now would wait in the server's queue for this name
   * and end the next connection of the same document right after it is set up.
   */
  stop(): void {
    this.clearRetry()
    const provider = this.provider
    if (!provider) return
    this.provider = undefined
    this.options.socket.configuration.providerMap.delete(provider.effectiveName)
    provider.detach()
    provider.destroy()
  }

  /** Detaches the provider with a close message to the server, for good. */
  destroy(): void {
    this.destroyed = true
    this.clearRetry()
    const provider = this.provider
    this.provider = undefined
    provider?.destroy()
  }

  private ifCurrent(provider: HocuspocusProvider, handler: () => void): void {
    if (provider === this.provider) handler()
  }

  // The provider counts one for the initial sync and one per update sent, and counts down on
  // each acknowledgement, which the server sends only after storing the update. Zero therefore
  // means every change written so far, offline ones included, is stored.
  private handleUnsyncedChanges(provider: HocuspocusProvider, count: number): void {
    if (provider !== this.provider || count !== 0) return
    this.retryCount = 0
    this.options.events.onSettled()
  }

  private handleClose(provider: HocuspocusProvider, { event }: onCloseParameters): void {
    if (provider !== this.provider) return
    // After a close of the whole socket, the shared socket reconnects and reattaches every
    // provider, so only a close of this one document needs handling here.
    if (this.options.socket.status !== WebSocketStatus.Connected) return
    this.handleCloseReason(provider, event.reason)
  }

  private handleCloseReason(provider: HocuspocusProvider, rawReason: string): void {
    if (provider !== this.provider) return
    this.options.events.onClosed(parseCloseReason(rawReason))
  }

  private clearRetry(): void {
    if (this.retryTimer === undefined) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }
}
