import type { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { HocuspocusProvider } from '@hocuspocus/provider'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import type { TextCheck } from '../../../shared/chat-document.ts'
import { checkMessageText, findMessageEntry, messagesOf } from '../../../shared/chat-document.ts'
import { localDatabaseName } from '../../../shared/document-names.ts'
import type { CloseReason } from '../../../shared/errors.ts'
import type { MessageId, UserId } from '../../../shared/ids.ts'
import { closeReasonAction } from './close-reason-action.ts'
import type { SegmentContent, SyncProblem } from './conversation-snapshot.ts'
import { readSegmentContent } from './conversation-snapshot.ts'
import type { OutgoingMessage } from './conversation-writes.ts'
import { writeMessage } from './conversation-writes.ts'
import { DocumentConnection } from './document-connection.ts'
import { PendingMessages, pendingStorageKey } from './pending-messages.ts'
import { watchQuotaErrors } from './storage-errors.ts'
import type { UnsentMessage } from './unsent-messages.ts'
import { writeUnsentChangesAgain } from './unsent-changes.ts'
import { readUnsentMessages, writeUnsentAgain } from './unsent-messages.ts'

/** Callbacks through which a DocumentSync reports to the conversation that owns it. */
export interface DocumentSyncEvents {
  /** The document, its sync state or the delivery state of a message changed. */
  onChange: () => void
  /** The server sent changes or stored own messages. */
  onServerChange: () => void
  /** This device wrote to the document, and the server has not stored the change yet. */
  onLocalWrite: () => void
  /** The server has stored every change this device made to the document so far. */
  onSettled: () => void
  onNotAuthenticated: () => void
  /** The server rejected access. `deleted` is true when the conversation no longer exists. */
  onAccessLost: (reason: CloseReason, deleted: boolean) => void
  /**
   * The server rejected a change to `source`, so its local copy is dropped and synced again.
   * `unsent` are the own messages of the dropped copy that the server had not stored, for
   * the owner to write again as new messages.
   */
  /**
   * The server rejected the local copy, which is dropped: `unsent` lists its own unsent
   * messages and `rejectedState` is its whole state, for the other unsent changes.
   */
  onRejected: (
    source: DocumentSync,
    reason: CloseReason,
    unsent: UnsentMessage[],
    rejectedState: Uint8Array,
  ) => void
  /** A write to the local IndexedDB copy failed because the storage quota is used up. */
  onQuotaExceeded: () => void
}

export interface DocumentSyncOptions {
  userId: UserId
  documentName: string
  /** Number of the history segment whose messages this document contains (0: the live one). */
  segment: number
  socket: HocuspocusProviderWebsocket
  events: DocumentSyncEvents
}

// Shortest time in milliseconds between two automatic resynchronizations after invalid_update.
// A second rejection sooner stops syncing instead, so a change the server keeps rejecting
// cannot make the client drop, download and write again in a loop.
const RESYNC_MIN_INTERVAL_MS = 60_000

// Times at most that a copy synced anew which has written nothing connects again after a
// rejection, instead of stopping. Such a copy cannot have sent the rejected update, so the update is a
// late message of the dropped copy's provider. Hocuspocus 4.7 queues a message that arrives
// after it closed a document and replays it on the next connection to that document. The
// Parley server drops such messages, so this covers a server that does not.
const MAX_STALE_REJECTIONS = 3

/**
 * One document of a conversation: a Y.Doc loaded from IndexedDB, then synced through a
 * HocuspocusProvider attached to the shared socket. Tracks own pending and failed messages
 * and acts on the server's close reasons.
 */
export class DocumentSync {
  readonly documentName: string
  readonly segment: number
  private readonly pending: PendingMessages
  private readonly failed = new Map<MessageId, CloseReason>()
  private doc = new Y.Doc()
  private persistence: IndexeddbPersistence | undefined
  private stopQuotaWatch: (() => void) | undefined
  private readonly connection: DocumentConnection
  private loaded = false
  private synced = false
  private problem: SyncProblem | null = null
  private resyncing = false
  private lastResyncAt = -Infinity
  private staleRejections = 0
  private localChanges = false
  private queued: { outgoing: OutgoingMessage; knowsMessage: (id: MessageId) => boolean }[] = []
  private content: SegmentContent | undefined
  private destroyed = false
  private batching = false

  constructor(private readonly options: DocumentSyncOptions) {
    this.documentName = options.documentName
    this.segment = options.segment
    this.pending = new PendingMessages(
      pendingStorageKey(options.userId, this.documentName),
      options.events.onQuotaExceeded,
    )
    this.connection = new DocumentConnection({
      documentName: this.documentName,
      socket: options.socket,
      document: () => this.doc,
      events: {
        // Subscribers holding the previous provider's awareness pick up the new one.
        onAttached: () => this.refresh(),
        onAuthenticated: () => this.handleAuthenticated(),
        onSynced: () => this.handleSynced(),
        onSettled: () => this.handleSettled(),
        onClosed: (reason) => this.handleClosed(reason),
      },
    })
    void this.load()
  }

  get document(): Y.Doc {
    return this.doc
  }

  /** True once the local IndexedDB copy has been loaded. */
  get isLoaded(): boolean {
    return this.loaded
  }

  /** True once the document has synced with the server since it was loaded. */
  get hasSynced(): boolean {
    return this.synced
  }

  /** True while the provider is connected and has finished its sync handshake. */
  get isSyncedNow(): boolean {
    return this.connection.isSyncedNow
  }

  get syncProblem(): SyncProblem | null {
    return this.problem
  }

  /** True while the document accepts writes: loaded and not stopped by the server. */
  get canWrite(): boolean {
    return this.loaded && (this.problem === null || this.problem.kind === 'retrying')
  }

  /**
   * True while send() takes new messages: not stopped by the server. A document whose local
   * copy is still loading takes them too, and writes them once it has loaded.
   */
  get acceptsMessages(): boolean {
    return this.problem === null || this.problem.kind === 'retrying'
  }

  /** True while the document contains own changes that the server has not stored. */
  get hasUnsyncedWork(): boolean {
    return this.localChanges || this.pending.size > 0 || this.resyncing || this.queued.length > 0
  }

  /** Awareness of the current provider, or null while not syncing. */
  get awareness(): HocuspocusProvider['awareness'] {
    return this.connection.awareness
  }

  /** Returns the messages and reactions, read again only after a change. */
  read(): SegmentContent {
    this.content ??= readSegmentContent({
      doc: this.doc,
      segment: this.segment,
      userId: this.options.userId,
      readable: this.loaded && this.problem?.reason !== 'conversation_deleted',
      isPending: (id) => this.pending.has(id),
      failureOf: (id) => this.failed.get(id),
    })
    return this.content
  }

  /** Returns the number of entries in the messages array. */
  messageCount(): number {
    return messagesOf(this.doc).length
  }

  hasMessage(messageId: MessageId): boolean {
    return findMessageEntry(this.doc, messageId) !== undefined
  }

  /** Returns the size in bytes of the whole document encoded as one update. */
  encodedSize(): number {
    return Y.encodeStateAsUpdate(this.doc).byteLength
  }

  /**
   * Writes a new own message, which the provider sends when connected. `knowsMessage` returns
   * whether a reply's original exists in the conversation, in this or another document.
   */
  send(outgoing: OutgoingMessage, knowsMessage: (id: MessageId) => boolean): TextCheck {
    if (!this.acceptsMessages) throw new Error(`cannot write to ${this.documentName} now`)
    const check = checkMessageText(outgoing.text)
    if (!check.ok) return check
    // The open segment of a conversation changes while the user types, and its local copy
    // takes a moment to load. Written into the empty Y.Doc, the message would land before
    // the messages of that copy, so it waits for the load instead.
    if (!this.loaded) {
      this.queued.push({ outgoing, knowsMessage })
      return check
    }

    // Batching keeps the message from showing as sent between its write and its pending mark.
    this.batching = true
    try {
      const result = writeMessage(this.doc, this.options.userId, outgoing, knowsMessage)
      if (result.ok) this.pending.add(result.message.id)
      return result.ok ? check : result
    } finally {
      this.batching = false
      this.refresh()
    }
  }

  /**
   * Writes the own changes other than new messages of a dropped copy again, such as offline
   * edits and reactions. Returns how many were written.
   */
  writeChangesAgain(rejectedState: Uint8Array): number {
    this.assertWritable()
    return writeUnsentChangesAgain(this.doc, rejectedState, this.options.userId)
  }

  /** Applies an own change other than a new message, such as an edit or a reaction. */
  change<T>(write: (doc: Y.Doc) => T): T {
    this.assertWritable()
    return write(this.doc)
  }

  /**
   * Writes unsent messages of a dropped copy again, as new messages. Skips those that
   * `isStored` reports as stored by the server before the rejection.
   */
  writeAgain(unsent: readonly UnsentMessage[], isStored: (id: MessageId) => boolean) {
    this.batching = true
    try {
      const result = writeUnsentAgain(this.doc, this.options.userId, unsent, isStored)
      for (const id of result.written) this.pending.add(id)
      return result
    } finally {
      this.batching = false
      this.refresh()
    }
  }

  /**
   * Syncs again after the server rejected access because the user was not a member, once
   * the user is one again. Messages that failed then stay failed.
   */
  retryAccess(): void {
    if (this.problem?.kind !== 'lost_access' || this.problem.reason !== 'forbidden') return
    this.problem = null
    this.refresh()
    this.connection.connect()
  }

  /** Deletes the local copy and loads the document again from the server. */
  async reloadFromServer(): Promise<void> {
    this.pending.takeAll()
    this.failed.clear()
    this.resyncing = false
    await this.replaceDocument()
  }

  /** Detaches the provider, with a close message to the server, and destroys the Y.Doc. */
  destroy(): void {
    this.destroyed = true
    this.connection.destroy()
    this.stopQuotaWatch?.()
    void this.persistence?.destroy()
    this.doc.destroy()
  }

  private async load(): Promise<void> {
    const doc = this.doc
    doc.on('update', this.handleUpdate)

    const name = localDatabaseName(this.options.userId, this.documentName)
    const persistence = new IndexeddbPersistence(name, doc)
    this.persistence = persistence
    this.stopQuotaWatch = watchQuotaErrors(persistence, this.options.events.onQuotaExceeded)
    try {
      // whenSynced never settles when the database cannot be opened, but _db rejects then.
      await persistence._db.then(() => persistence.whenSynced)
    } catch {
      // NOTE: without IndexedDB (private mode in some browsers) the document syncs from the
      // server only and unsent messages are lost on reload.
    }
    if (this.destroyed || doc !== this.doc) return

    this.loaded = true
    this.writeQueued()
    this.refresh()
    // Attaching only after the local copy is loaded lets the first sync send only what the
    // server lacks instead of the whole history.
    this.connection.connect()
  }

  /**
   * Drops the Y.Doc and its IndexedDB database, then loads an empty document that syncs from
   * the server. Unless the deletion fails, nothing of the dropped copy reaches the server.
   */
  private async replaceDocument(): Promise<void> {
    this.connection.stop()
    const persistence = this.persistence
    this.persistence = undefined
    this.stopQuotaWatch?.()
    this.doc.off('update', this.handleUpdate)
    this.doc.destroy()
    this.problem = null
    this.loaded = false
    this.synced = false
    this.localChanges = false
    this.staleRejections = 0
    this.refresh()

    // NOTE: another tab with this conversation open loses its connection to the database,
    // which lib0 closes on `versionchange`, and stores nothing locally until it is reloaded.
    try {
      await persistence?.clearData()
    } catch {
      // The old copy then loads again. If the server rejects it again, the document stops
      // syncing with a `rejected` problem instead of resynchronizing once more.
    }
    if (this.destroyed) return
    this.doc = new Y.Doc()
    await this.load()
  }

  private handleUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (origin instanceof HocuspocusProvider) {
      this.options.events.onServerChange()
    } else if (!(origin instanceof IndexeddbPersistence)) {
      this.localChanges = true
      this.options.events.onLocalWrite()
    }
    this.refresh()
  }

  private handleAuthenticated(): void {
    if (this.problem?.kind !== 'retrying') return
    this.problem = null
    this.refresh()
  }

  private handleSynced(): void {
    this.synced = true
    this.refresh()
  }

  // The server has stored every change written so far, offline ones included.
  private handleSettled(): void {
    const sent = this.pending.takeAll()
    this.localChanges = false
    // A resynchronization ends once the copy synced from the server is complete.
    this.resyncing = false
    this.options.events.onSettled()
    if (sent.length === 0 && this.problem === null) return

    this.problem = null
    this.refresh()
    this.options.events.onServerChange()
  }

  private handleClosed(reason: CloseReason | undefined): void {
    if (reason === undefined) {
      this.scheduleRetry(undefined)
      return
    }

    const action = closeReasonAction(reason)
    switch (action) {
      case 'sign_in':
        this.options.events.onNotAuthenticated()
        return
      case 'lost_access':
        this.connection.stop()
        this.failPending(reason)
        this.setProblem({ kind: 'lost_access', reason })
        this.options.events.onAccessLost(reason, false)
        return
      case 'deleted':
        this.connection.stop()
        this.deleteLocalCopy()
        this.setProblem({ kind: 'lost_access', reason })
        this.options.events.onAccessLost(reason, true)
        return
      case 'resync':
        this.startResync(reason)
        return
      case 'rejected':
        this.stopRejected(reason)
        return
      case 'new_client_id':
        this.connection.stop()
        this.doc.clientID = randomClientId()
        this.connection.connect()
        return
      case 'back_off':
        this.scheduleRetry(reason)
        return
      case 'reconnect':
        this.connection.stop()
        this.connection.connect()
        return
    }
  }

  /**
   * Drops the rejected local copy and syncs again from the server. The own unsent messages go
   * to the owner, which writes them again as new messages, and the old ids count as failed.
   * A rejection during a resynchronization, or soon after one, stops syncing instead. The
   * exception is a copy synced anew that has written nothing, which connects again, because
   * the rejected update was a late message of the dropped copy (see MAX_STALE_REJECTIONS).
   */
  private startResync(reason: CloseReason): void {
    const stale = this.resyncing && this.sentNothingSinceResync()
    if (stale && this.staleRejections < MAX_STALE_REJECTIONS) {
      this.staleRejections += 1
      this.connection.stop()
      this.connection.connect()
      return
    }

    const now = Date.now()
    if (this.resyncing || now - this.lastResyncAt < RESYNC_MIN_INTERVAL_MS) {
      this.resyncing = false
      this.stopRejected(reason)
      return
    }

    const ids = this.pending.takeAll()
    const unsent = readUnsentMessages(this.doc, this.options.userId, ids)
    const rejectedState = Y.encodeStateAsUpdate(this.doc)
    for (const id of ids) this.failed.set(id, reason)
    this.lastResyncAt = now
    this.resyncing = true
    this.options.events.onRejected(this, reason, unsent, rejectedState)
    void this.replaceDocument()
  }

  // True while the copy synced anew has written nothing, so that every update its provider
  // sent came from the server. A rejection then concerns bytes of the dropped copy.
  private sentNothingSinceResync(): boolean {
    return !this.localChanges && this.pending.size === 0 && this.queued.length === 0
  }

  // NOTE: messages queued while the local copy loads live in memory only, so a page closed
  // within that moment loses them.
  private writeQueued(): void {
    const queued = this.queued
    this.queued = []
    for (const { outgoing, knowsMessage } of queued) {
      if (this.acceptsMessages) this.send(outgoing, knowsMessage)
    }
  }

  private stopRejected(reason: CloseReason): void {
    this.connection.stop()
    this.failPending(reason)
    this.setProblem({ kind: 'rejected', reason })
  }

  private scheduleRetry(reason: CloseReason | undefined): void {
    this.connection.scheduleRetry()
    this.setProblem({ kind: 'retrying', reason })
  }

  private deleteLocalCopy(): void {
    this.pending.takeAll()
    this.localChanges = false
    const persistence = this.persistence
    this.persistence = undefined
    this.stopQuotaWatch?.()
    void persistence?.clearData()
  }

  private failPending(reason: CloseReason): void {
    for (const id of this.pending.takeAll()) this.failed.set(id, reason)
  }

  private assertWritable(): void {
    if (!this.canWrite) throw new Error(`cannot write to ${this.documentName} now`)
  }

  private setProblem(problem: SyncProblem): void {
    this.problem = problem
    this.refresh()
  }

  private refresh(): void {
    if (this.batching || this.destroyed) return
    this.content = undefined
    this.options.events.onChange()
  }
}

function randomClientId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? Date.now() >>> 0
}
