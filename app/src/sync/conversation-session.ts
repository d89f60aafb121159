import type { HocuspocusProviderWebsocket, onCloseParameters } from '@hocuspocus/provider'
import { HocuspocusProvider, WebSocketStatus } from '@hocuspocus/provider'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import type { ChatMessage, TextCheck } from '../../../shared/chat-document.ts'
import {
  checkMessageText,
  listMessages,
  messagesOf,
  sendMessage,
} from '../../../shared/chat-document.ts'
import { conversationDocumentName, localDatabaseName } from '../../../shared/document-names.ts'
import type { CloseReason } from '../../../shared/errors.ts'
import { parseCloseReason } from '../../../shared/errors.ts'
import type { ConversationId, MessageId, UserId } from '../../../shared/ids.ts'
import { Listeners } from './listeners.ts'
import { PendingMessages, pendingStorageKey } from './pending-messages.ts'
import { closeReasonAction } from './close-reason-action.ts'

/** State of a message as shown to its author; `other` for everyone else's messages. */
export type MessageState = 'pending' | 'sent' | 'failed' | 'other'

/** A message with its delivery state. */
export interface MessageView {
  message: ChatMessage
  state: MessageState
  /** Reason the server gave, for failed messages. */
  failure: CloseReason | undefined
}

/** Reason a conversation document is not syncing normally. */
export type SyncProblem =
  | { kind: 'lost_access'; reason: CloseReason }
  | { kind: 'rejected'; reason: CloseReason }
  | { kind: 'retrying'; reason: CloseReason | undefined }

/** Render state of one conversation document. */
export interface ConversationSnapshot {
  /** True once the local IndexedDB copy has been loaded. */
  loaded: boolean
  messages: readonly MessageView[]
  problem: SyncProblem | null
  canSend: boolean
}

export interface ConversationSessionOptions {
  userId: UserId
  conversationId: ConversationId
  socket: HocuspocusProviderWebsocket
  onNotAuthenticated: () => void
  /** Called when the server sent changes or acknowledged own messages. */
  onDocumentChanged: (conversationId: ConversationId) => void
  onAccessLost: (conversationId: ConversationId) => void
}

// Delays in milliseconds between attempts after rate_limited or an unexplained close.
const RETRY_BASE_MS = 2_000
const RETRY_MAX_MS = 60_000

/**
 * One open conversation document: a Y.Doc loaded from IndexedDB, then synced through a
 * HocuspocusProvider attached to the shared socket. Tracks own pending and failed messages.
 */
export class ConversationSession {
  readonly documentName: string
  private readonly listeners = new Listeners()
  private readonly pending: PendingMessages
  private readonly failed = new Map<MessageId, CloseReason>()
  private doc = new Y.Doc()
  private persistence: IndexeddbPersistence | undefined
  private provider: HocuspocusProvider | undefined
  private loaded = false
  private problem: SyncProblem | null = null
  private snapshot: ConversationSnapshot
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private retryCount = 0
  private destroyed = false
  private batching = false

  constructor(private readonly options: ConversationSessionOptions) {
    this.documentName = conversationDocumentName(options.conversationId)
    this.pending = new PendingMessages(pendingStorageKey(options.userId, this.documentName))
    this.snapshot = this.buildSnapshot()
    void this.load()
  }

  subscribe = (listener: () => void): (() => void) => this.listeners.subscribe(listener)

  getSnapshot = (): ConversationSnapshot => this.snapshot

  /** Writes a message into the local document; the provider sends it when connected. */
  send(text: string): TextCheck {
    const check = checkMessageText(text)
    if (!check.ok) return check
    if (!this.snapshot.canSend) throw new Error(`cannot send to ${this.documentName} now`)

    // Batching keeps the message from showing as sent between its write and its pending mark.
    this.batching = true
    try {
      const message = sendMessage(this.doc, { authorId: this.options.userId, text })
      this.pending.add(message.id)
    } finally {
      this.batching = false
    }
    this.refresh()
    return check
  }

  /** Deletes the local copy and loads the document again from the server. */
  async reloadFromServer(): Promise<void> {
    this.stopSyncing()
    const persistence = this.persistence
    this.persistence = undefined
    this.doc.destroy()
    this.pending.takeAll()
    this.failed.clear()
    this.problem = null
    this.loaded = false
    this.refresh()

    await persistence?.clearData()
    if (this.destroyed) return
    this.doc = new Y.Doc()
    await this.load()
  }

  destroy(): void {
    this.destroyed = true
    this.clearRetry()
    const provider = this.provider
    this.provider = undefined
    provider?.destroy()
    void this.persistence?.destroy()
    this.doc.destroy()
    this.listeners.clear()
  }

  private async load(): Promise<void> {
    const doc = this.doc
    messagesOf(doc).observeDeep(this.refresh)
    doc.on('update', this.handleUpdate)

    const name = localDatabaseName(this.options.userId, this.documentName)
    const persistence = new IndexeddbPersistence(name, doc)
    this.persistence = persistence
    try {
      await persistence.whenSynced
    } catch {
      // NOTE: without IndexedDB (private mode in some browsers) the document syncs from the
      // server only and unsent messages are lost on reload.
    }
    if (this.destroyed || doc !== this.doc) return

    this.loaded = true
    this.refresh()
    // Attaching only after the local copy is loaded lets the first sync send only what the
    // server lacks instead of the whole history.
    this.connect()
  }

  private connect(): void {
    const provider: HocuspocusProvider = new HocuspocusProvider({
      websocketProvider: this.options.socket,
      name: this.documentName,
      document: this.doc,
      // The server authenticates the browser by its session cookie during the upgrade; the
      // protocol still requires a non-empty token.
      token: 'cookie',
      onAuthenticated: () => this.handleAuthenticated(provider),
      onAuthenticationFailed: ({ reason }) => this.handleCloseReason(provider, reason),
      onClose: (event) => this.handleClose(provider, event),
      onUnsyncedChanges: ({ number }) => this.handleUnsyncedChanges(provider, number),
    })
    this.provider = provider
    provider.attach()
  }

  private handleUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (origin instanceof HocuspocusProvider)
      this.options.onDocumentChanged(this.options.conversationId)
  }

  private handleAuthenticated(provider: HocuspocusProvider): void {
    if (provider !== this.provider || this.problem?.kind !== 'retrying') return
    this.problem = null
    this.refresh()
  }

  // The provider counts one for the initial sync and one per update sent, and counts down on
  // each acknowledgement, which the server sends only after storing the update. Zero therefore
  // means every message written so far, offline ones included, is stored.
  private handleUnsyncedChanges(provider: HocuspocusProvider, count: number): void {
    if (provider !== this.provider || count !== 0) return
    const sent = this.pending.takeAll()
    this.retryCount = 0
    if (sent.length === 0 && this.problem === null) return

    this.problem = null
    this.refresh()
    this.options.onDocumentChanged(this.options.conversationId)
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
    const reason = parseCloseReason(rawReason)
    if (reason === undefined) {
      this.scheduleRetry(undefined)
      return
    }

    const action = closeReasonAction(reason)
    switch (action) {
      case 'sign_in':
        this.options.onNotAuthenticated()
        return
      case 'lost_access':
        this.stopSyncing()
        this.failPending(reason)
        this.setProblem({ kind: 'lost_access', reason })
        this.options.onAccessLost(this.options.conversationId)
        return
      case 'deleted':
        this.stopSyncing()
        this.deleteLocalCopy()
        this.setProblem({ kind: 'lost_access', reason })
        this.options.onAccessLost(this.options.conversationId)
        return
      case 'rejected':
        this.stopSyncing()
        this.failPending(reason)
        this.setProblem({ kind: 'rejected', reason })
        return
      case 'new_client_id':
        this.stopSyncing()
        this.doc.clientID = randomClientId()
        this.connect()
        return
      case 'back_off':
        this.scheduleRetry(reason)
        return
      case 'reconnect':
        this.stopSyncing()
        this.connect()
        return
    }
  }

  private scheduleRetry(reason: CloseReason | undefined): void {
    this.stopSyncing()
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.retryCount)
    this.retryCount += 1
    this.setProblem({ kind: 'retrying', reason })
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
  private stopSyncing(): void {
    this.clearRetry()
    const provider = this.provider
    if (!provider) return
    this.provider = undefined
    this.options.socket.configuration.providerMap.delete(provider.effectiveName)
    provider.detach()
    provider.destroy()
  }

  private deleteLocalCopy(): void {
    this.pending.takeAll()
    const persistence = this.persistence
    this.persistence = undefined
    void persistence?.clearData()
  }

  private failPending(reason: CloseReason): void {
    for (const id of this.pending.takeAll()) this.failed.set(id, reason)
  }

  private clearRetry(): void {
    if (this.retryTimer === undefined) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  private setProblem(problem: SyncProblem): void {
    this.problem = problem
    this.refresh()
  }

  private refresh = (): void => {
    if (this.batching || this.destroyed) return
    this.snapshot = this.buildSnapshot()
    this.listeners.notify()
  }

  private buildSnapshot(): ConversationSnapshot {
    const deleted = this.problem?.reason === 'conversation_deleted'
    const messages = !this.loaded || deleted ? [] : listMessages(this.doc).map(this.viewOf)
    const stopped = this.problem !== null && this.problem.kind !== 'retrying'
    return {
      loaded: this.loaded,
      messages,
      problem: this.problem,
      canSend: this.loaded && !stopped,
    }
  }

  private viewOf = (message: ChatMessage): MessageView => {
    if (message.authorId !== this.options.userId) {
      return { message, state: 'other', failure: undefined }
    }
    const failure = this.failed.get(message.id)
    if (failure) return { message, state: 'failed', failure }
    const state = this.pending.has(message.id) ? 'pending' : 'sent'
    return { message, state, failure: undefined }
  }
}

function randomClientId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? Date.now() >>> 0
}
