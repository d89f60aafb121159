import type { HocuspocusProviderWebsocket, onCloseParameters } from '@hocuspocus/provider'
import { HocuspocusProvider, WebSocketStatus } from '@hocuspocus/provider'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import type { ChangeResult, TextCheck } from '../../../shared/chat-document.ts'
import { deleteMessage, editMessage } from '../../../shared/chat-document.ts'
import { conversationDocumentName, localDatabaseName } from '../../../shared/document-names.ts'
import type { CloseReason } from '../../../shared/errors.ts'
import { parseCloseReason } from '../../../shared/errors.ts'
import type { ConversationId, MessageId, UserId } from '../../../shared/ids.ts'
import { closeReasonAction } from './close-reason-action.ts'
import type {
  ConversationSnapshot,
  Resynchronization,
  SyncProblem,
} from './conversation-snapshot.ts'
import { buildSnapshot } from './conversation-snapshot.ts'
import type { OutgoingMessage, ReactionResult } from './conversation-writes.ts'
import { writeMessage, writeReaction, writeReadMarker } from './conversation-writes.ts'
import { Listeners } from './listeners.ts'
import { PendingMessages, pendingStorageKey } from './pending-messages.ts'
import { ReadMarkerThrottle } from './read-marker-throttle.ts'
import type { UnsentMessage } from './unsent-messages.ts'
import { readUnsentMessages, writeUnsentAgain } from './unsent-messages.ts'

export type {
  ConversationSnapshot,
  MessageState,
  MessageView,
  ReactionIndex,
  Resynchronization,
  SyncProblem,
} from './conversation-snapshot.ts'

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
// Shortest time in milliseconds between two automatic resynchronizations after invalid_update.
// A second rejection sooner stops syncing instead, so a change the server keeps rejecting
// cannot make the client drop, download and write again in a loop.
const RESYNC_MIN_INTERVAL_MS = 60_000

/** Resynchronization in progress after the server rejected a change with invalid_update. */
interface PendingResync {
  reason: CloseReason
  /** Messages to write again once synced, or null once they have been written. */
  unsent: UnsentMessage[] | null
}

/**
 * One open conversation document: a Y.Doc loaded from IndexedDB, then synced through a
 * HocuspocusProvider attached to the shared socket. Tracks own pending and failed messages.
 */
export class ConversationSession {
  readonly documentName: string
  private readonly listeners = new Listeners()
  private readonly pending: PendingMessages
  private readonly failed = new Map<MessageId, CloseReason>()
  private readonly readMarker: ReadMarkerThrottle
  private doc = new Y.Doc()
  private persistence: IndexeddbPersistence | undefined
  private provider: HocuspocusProvider | undefined
  private loaded = false
  private synced = false
  private problem: SyncProblem | null = null
  private resync: PendingResync | undefined
  private lastResyncAt = -Infinity
  private resynchronization: Resynchronization | null = null
  private snapshot: ConversationSnapshot
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private retryCount = 0
  private destroyed = false
  private batching = false

  constructor(private readonly options: ConversationSessionOptions) {
    this.documentName = conversationDocumentName(options.conversationId)
    this.pending = new PendingMessages(pendingStorageKey(options.userId, this.documentName))
    this.readMarker = new ReadMarkerThrottle(this.writeReadMarker)
    this.snapshot = this.buildSnapshot()
    void this.load()
  }

  subscribe = (listener: () => void): (() => void) => this.listeners.subscribe(listener)

  getSnapshot = (): ConversationSnapshot => this.snapshot

  /**
   * Awareness of the current provider, for typing indicators, or null while not syncing.
   * Each reconnect creates a new provider with a new awareness, and the session notifies its
   * subscribers when that happens, so read it again on every notification.
   */
  get awareness(): HocuspocusProvider['awareness'] {
    return this.provider?.awareness ?? null
  }

  /** Writes a message into the local document; the provider sends it when connected. */
  send(outgoing: OutgoingMessage): TextCheck {
    this.assertWritable()

    // Batching keeps the message from showing as sent between its write and its pending mark.
    this.batching = true
    let result: ReturnType<typeof writeMessage>
    try {
      result = writeMessage(this.doc, this.options.userId, outgoing)
      if (result.ok) this.pending.add(result.message.id)
    } finally {
      this.batching = false
    }
    this.refresh()
    return result.ok ? { ok: true } : result
  }

  /** Replaces the text of an own message. `mentions` are the ids of the users it names. */
  edit(messageId: MessageId, text: string, mentions: readonly UserId[]): ChangeResult {
    this.assertWritable()
    return editMessage(this.doc, {
      messageId,
      userId: this.options.userId,
      text,
      mentions: [...mentions],
    })
  }

  /** Deletes an own message, leaving a placeholder. */
  delete(messageId: MessageId): ChangeResult {
    this.assertWritable()
    return deleteMessage(this.doc, { messageId, userId: this.options.userId })
  }

  /** Adds the own reaction with an emoji to a message, or removes it when present. */
  toggleReaction(messageId: MessageId, emoji: string): ReactionResult {
    this.assertWritable()
    return writeReaction(this.doc, this.options.userId, messageId, emoji)
  }

  /**
   * Moves the own read marker forward to a message, at most once per throttle interval.
   * A message before the current marker leaves it where it is.
   */
  markRead(messageId: MessageId): void {
    this.readMarker.request(messageId)
  }

  /** Deletes the local copy and loads the document again from the server. */
  async reloadFromServer(): Promise<void> {
    this.pending.takeAll()
    this.failed.clear()
    this.resync = undefined
    this.resynchronization = null
    await this.replaceDocument()
  }

  /** Hides the notice about the last resynchronization. */
  dismissResynchronization(): void {
    this.resynchronization = null
    this.refresh()
  }

  destroy(): void {
    this.destroyed = true
    this.clearRetry()
    this.readMarker.cancel()
    const provider = this.provider
    this.provider = undefined
    provider?.destroy()
    void this.persistence?.destroy()
    this.doc.destroy()
    this.listeners.clear()
  }

  private async load(): Promise<void> {
    const doc = this.doc
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

  /**
   * Drops the Y.Doc and its IndexedDB database, then loads an empty document that syncs from
   * the server. Unless the deletion fails, nothing of the dropped copy reaches the server.
   */
  private async replaceDocument(): Promise<void> {
    this.stopSyncing()
    this.readMarker.cancel()
    const persistence = this.persistence
    this.persistence = undefined
    this.doc.off('update', this.handleUpdate)
    this.doc.destroy()
    this.problem = null
    this.loaded = false
    this.synced = false
    this.refresh()

    // NOTE: another tab with this conversation open loses its connection to the database,
    // which lib0 closes on `versionchange`, and stores nothing locally until it is reloaded.
    try {
      await persistence?.clearData()
    } catch {
      // The old copy then loads again. If the server rejects it again, the session stops
      // syncing with a `rejected` problem instead of resynchronizing once more.
    }
    if (this.destroyed) return
    this.doc = new Y.Doc()
    await this.load()
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
      onSynced: () => this.handleSynced(provider),
      onClose: (event) => this.handleClose(provider, event),
      onUnsyncedChanges: ({ number }) => this.handleUnsyncedChanges(provider, number),
    })
    this.provider = provider
    provider.attach()
    // Subscribers holding the previous provider's awareness pick up the new one.
    this.refresh()
  }

  private handleUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (origin instanceof HocuspocusProvider) {
      this.options.onDocumentChanged(this.options.conversationId)
    }
    this.refresh()
  }

  private handleAuthenticated(provider: HocuspocusProvider): void {
    if (provider !== this.provider || this.problem?.kind !== 'retrying') return
    this.problem = null
    this.refresh()
  }

  private handleSynced(provider: HocuspocusProvider): void {
    if (provider !== this.provider) return
    this.synced = true
    const unsent = this.resync?.unsent
    if (this.resync && unsent) {
      this.resync.unsent = null
      this.writeAgain(this.resync.reason, unsent)
    }
    this.refresh()
  }

  // The provider counts one for the initial sync and one per update sent, and counts down on
  // each acknowledgement, which the server sends only after storing the update. Zero therefore
  // means every message written so far, offline ones included, is stored.
  private handleUnsyncedChanges(provider: HocuspocusProvider, count: number): void {
    if (provider !== this.provider || count !== 0) return
    const sent = this.pending.takeAll()
    this.retryCount = 0
    // A resynchronization ends once what it wrote again is stored.
    if (this.resync?.unsent === null) this.resync = undefined
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
      case 'resync':
        this.startResync(reason)
        return
      case 'rejected':
        this.stopRejected(reason)
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

  /**
   * Drops the rejected local copy, syncs again from the server and then writes the own unsent
   * messages again as new messages. The old ids count as failed. A rejection during a
   * resynchronization, or soon after one, stops syncing instead.
   */
  private startResync(reason: CloseReason): void {
    const now = Date.now()
    if (this.resync || now - this.lastResyncAt < RESYNC_MIN_INTERVAL_MS) {
      this.resync = undefined
      this.stopRejected(reason)
      return
    }

    const ids = this.pending.takeAll()
    const unsent = readUnsentMessages(this.doc, this.options.userId, ids)
    for (const id of ids) this.failed.set(id, reason)
    this.lastResyncAt = now
    this.resync = { reason, unsent }
    void this.replaceDocument()
  }

  private writeAgain(reason: CloseReason, unsent: readonly UnsentMessage[]): void {
    this.batching = true
    try {
      const { written, lost } = writeUnsentAgain(this.doc, this.options.userId, unsent)
      for (const id of written) this.pending.add(id)
      this.resynchronization = { reason, resent: written.length, lost }
    } finally {
      this.batching = false
    }
  }

  private stopRejected(reason: CloseReason): void {
    this.stopSyncing()
    this.failPending(reason)
    this.setProblem({ kind: 'rejected', reason })
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

  private writeReadMarker = (messageId: MessageId): void => {
    if (this.destroyed || !this.snapshot.canSend) return
    writeReadMarker(this.doc, this.options.userId, messageId)
  }

  private assertWritable(): void {
    if (!this.snapshot.canSend) throw new Error(`cannot write to ${this.documentName} now`)
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
    return buildSnapshot({
      doc: this.doc,
      userId: this.options.userId,
      loaded: this.loaded,
      synced: this.synced,
      problem: this.problem,
      resynchronization: this.resynchronization,
      isPending: (id) => this.pending.has(id),
      failureOf: (id) => this.failed.get(id),
    })
  }
}

function randomClientId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? Date.now() >>> 0
}
