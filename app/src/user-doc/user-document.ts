import type { HocuspocusProviderWebsocket, onCloseParameters } from '@hocuspocus/provider'
import { HocuspocusProvider, WebSocketStatus } from '@hocuspocus/provider'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import { localDatabaseName, userDocumentName } from '../../../shared/document-names.ts'
import { parseCloseReason } from '../../../shared/errors.ts'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { Listeners } from '../sync/listeners.ts'
import type { UserPreferences } from './user-roots.ts'
import {
  forgetConversation,
  readPreferences,
  writeDraft,
  writeMuted,
  writePinned,
} from './user-roots.ts'

/** Render state of the user's private document. */
export interface UserDocumentSnapshot extends UserPreferences {
  /** True once the local IndexedDB copy has been loaded. */
  loaded: boolean
}

export interface UserDocumentOptions {
  userId: UserId
  socket: HocuspocusProviderWebsocket
  onNotAuthenticated: () => void
}

// Delays in milliseconds between attempts after rate_limited or an unexplained close.
const RETRY_BASE_MS = 2_000
const RETRY_MAX_MS = 60_000

/**
 * The signed-in user's private document `user:<userId>`: composer drafts, muted and pinned
 * conversations. Loaded from IndexedDB first, then synced through the shared socket, so that
 * changes made offline on any of the user's devices converge once they reconnect.
 * Also receives the server's stateless `conversations_changed` messages for this user.
 */
export class UserDocument {
  readonly documentName: string
  private readonly listeners = new Listeners()
  private readonly changeListeners = new Set<(conversationId: ConversationId | null) => void>()
  private readonly doc = new Y.Doc()
  private persistence: IndexeddbPersistence | undefined
  private provider: HocuspocusProvider | undefined
  private snapshot: UserDocumentSnapshot
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private retryCount = 0
  private destroyed = false

  constructor(private readonly options: UserDocumentOptions) {
    this.documentName = userDocumentName(options.userId)
    this.snapshot = { loaded: false, ...readPreferences(this.doc) }
    this.doc.on('update', this.refresh)
    void this.load()
  }

  subscribe = (listener: () => void): (() => void) => this.listeners.subscribe(listener)

  getSnapshot = (): UserDocumentSnapshot => this.snapshot

  /** Returns the stored draft of a conversation, or '' when there is none or not loaded yet. */
  getDraft(conversationId: ConversationId): string {
    return this.snapshot.drafts.get(conversationId) ?? ''
  }

  /**
   * Stores the composer draft of a conversation; '' or blank text removes it. Each call
   * writes one update, so callers debounce keystrokes.
   */
  setDraft(conversationId: ConversationId, text: string): void {
    if (this.destroyed) return
    writeDraft(this.doc, conversationId, text)
  }

  isMuted(conversationId: ConversationId): boolean {
    return this.snapshot.muted.has(conversationId)
  }

  setMuted(conversationId: ConversationId, muted: boolean): void {
    if (this.destroyed) return
    writeMuted(this.doc, conversationId, muted)
  }

  isPinned(conversationId: ConversationId): boolean {
    return this.snapshot.pinned.has(conversationId)
  }

  setPinned(conversationId: ConversationId, pinned: boolean): void {
    if (this.destroyed) return
    writePinned(this.doc, conversationId, pinned)
  }

  /** Removes the draft, mute and pin of a conversation that no longer exists. */
  forget(conversationId: ConversationId): void {
    if (this.destroyed) return
    forgetConversation(this.doc, conversationId)
  }

  /**
   * Calls the listener when the server reports that a conversation of this user has a new
   * message or read change. The id is null when the message named none.
   */
  onConversationsChanged(listener: (conversationId: ConversationId | null) => void): () => void {
    this.changeListeners.add(listener)
    return () => {
      this.changeListeners.delete(listener)
    }
  }

  destroy(): void {
    this.destroyed = true
    this.clearRetry()
    const provider = this.provider
    this.provider = undefined
    provider?.destroy()
    void this.persistence?.destroy()
    this.doc.off('update', this.refresh)
    this.doc.destroy()
    this.listeners.clear()
    this.changeListeners.clear()
  }

  private async load(): Promise<void> {
    const name = localDatabaseName(this.options.userId, this.documentName)
    const persistence = new IndexeddbPersistence(name, this.doc)
    this.persistence = persistence
    try {
      await persistence.whenSynced
    } catch {
      // NOTE: without IndexedDB (private mode in some browsers) drafts, mutes and pins come
      // from the server only, and changes made offline are lost on reload.
    }
    if (this.destroyed) return

    this.snapshot = { ...this.snapshot, loaded: true }
    this.listeners.notify()
    // As for conversations, attaching after the local copy is loaded lets the first sync send
    // only what the server lacks.
    this.connect()
  }

  private connect(): void {
    const provider: HocuspocusProvider = new HocuspocusProvider({
      websocketProvider: this.options.socket,
      name: this.documentName,
      document: this.doc,
      // The session cookie authenticates the browser; the protocol requires a non-empty token.
      token: 'cookie',
      onAuthenticated: () => {
        if (provider === this.provider) this.retryCount = 0
      },
      onAuthenticationFailed: ({ reason }) => this.handleCloseReason(provider, reason),
      onClose: (event) => this.handleClose(provider, event),
      onStateless: ({ payload }) => this.handleStateless(provider, payload),
    })
    this.provider = provider
    provider.attach()
  }

  private handleStateless(provider: HocuspocusProvider, payload: string): void {
    if (provider !== this.provider) return
    const message = parseStatelessMessage(payload)
    if (message?.type !== 'conversations_changed') return
    for (const listener of [...this.changeListeners]) listener(message.conversationId)
  }

  private handleClose(provider: HocuspocusProvider, { event }: onCloseParameters): void {
    if (provider !== this.provider) return
    // The shared socket reattaches every provider after it reconnects, so only a close of
    // this one document needs handling here.
    if (this.options.socket.status !== WebSocketStatus.Connected) return
    this.handleCloseReason(provider, event.reason)
  }

  private handleCloseReason(provider: HocuspocusProvider, rawReason: string): void {
    if (provider !== this.provider) return
    const reason = parseCloseReason(rawReason)
    if (reason === undefined) {
      this.scheduleRetry()
      return
    }
    switch (reason) {
      case 'not_authenticated':
        this.options.onNotAuthenticated()
        return
      // Only this user may open the document, so these mean a server or client bug: stop
      // syncing and keep the local copy, which syncs again on the next page load.
      case 'forbidden':
      case 'conversation_deleted':
      case 'invalid_update':
      case 'too_large':
        this.stopSyncing()
        return
      case 'client_id_taken':
        this.stopSyncing()
        this.doc.clientID = crypto.getRandomValues(new Uint32Array(1))[0] ?? Date.now() >>> 0
        this.connect()
        return
      case 'rate_limited':
        this.scheduleRetry()
        return
      case 'server_restarting':
        this.stopSyncing()
        this.connect()
        return
    }
  }

  private scheduleRetry(): void {
    this.stopSyncing()
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.retryCount)
    this.retryCount += 1
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined
        if (!this.destroyed) this.connect()
      },
      delay * (0.5 + Math.random() / 2),
    )
  }

  // Detaches without a close message, which would end the next connection of the same
  // document on the server; see ConversationSession.stopSyncing.
  private stopSyncing(): void {
    this.clearRetry()
    const provider = this.provider
    if (!provider) return
    this.provider = undefined
    this.options.socket.configuration.providerMap.delete(provider.effectiveName)
    provider.detach()
    provider.destroy()
  }

  private clearRetry(): void {
    if (this.retryTimer === undefined) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  private refresh = (): void => {
    if (this.destroyed) return
    this.snapshot = { loaded: this.snapshot.loaded, ...readPreferences(this.doc) }
    this.listeners.notify()
  }
}

/** A stateless message the server sends on a user's private document. */
export type UserStatelessMessage = {
  type: 'conversations_changed'
  conversationId: ConversationId | null
}

/** Parses a stateless payload; returns undefined for anything this client does not know. */
export function parseStatelessMessage(payload: string): UserStatelessMessage | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { type, conversationId } = parsed as { type?: unknown; conversationId?: unknown }
  if (type !== 'conversations_changed') return undefined
  return {
    type,
    conversationId: typeof conversationId === 'string' ? (conversationId as ConversationId) : null,
  }
}
