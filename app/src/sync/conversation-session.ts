import type { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import type { ChangeResult, TextCheck } from '../../../shared/chat-document.ts'
import { deleteMessage, editMessage } from '../../../shared/chat-document.ts'
import { conversationDocumentName, segmentDocumentName } from '../../../shared/document-names.ts'
import type { ConversationId, MessageId, UserId } from '../../../shared/ids.ts'
import { api } from '../api/endpoints.ts'
import type {
  ConversationSnapshot,
  Resynchronization,
  SegmentContent,
} from './conversation-snapshot.ts'
import { buildSnapshot } from './conversation-snapshot.ts'
import type { MessageOrder, OutgoingMessage, ReactionResult } from './conversation-writes.ts'
import { writeReaction, writeReadMarker } from './conversation-writes.ts'
import type { DocumentSyncEvents } from './document-sync.ts'
import { DocumentSync } from './document-sync.ts'
import { Listeners } from './listeners.ts'
import type { LocalCopyBudget } from './local-copy-budget.ts'
import { removeSegmentCopies } from './local-data.ts'
import { MessageRecovery } from './message-recovery.ts'
import { QuotedMessages } from './quoted-messages.ts'
import { ReadMarkerThrottle } from './read-marker-throttle.ts'
import { SegmentHistory } from './segment-history.ts'
import { UnsyncedSegments, unsyncedSegmentsKey } from './unsynced-segments.ts'

export type {
  ConversationSnapshot,
  HistoryView,
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
  budget: LocalCopyBudget
  onNotAuthenticated: () => void
  /** Called when the server sent changes or acknowledged own messages. */
  onDocumentChanged: (conversationId: ConversationId) => void
  onAccessLost: (conversationId: ConversationId) => void
}

/**
 * One open conversation: its live document (read markers, system events, the number of the
 * open segment) and the history segments shown, each a DocumentSync on the shared socket.
 * New messages go to the open segment, and a change to a message goes to the document that
 * contains it.
 */
export class ConversationSession {
  /** Name of the live document, which carries presence. */
  readonly documentName: string
  private readonly listeners = new Listeners()
  private readonly live: DocumentSync
  private readonly history: SegmentHistory
  private readonly quotes: QuotedMessages
  private readonly recovery = new MessageRecovery()
  private readonly readMarker: ReadMarkerThrottle
  private resynchronization: Resynchronization | null = null
  private storageFull = false
  private accessLost = false
  private pageLoaded = false
  private pageSynced = false
  private snapshot: ConversationSnapshot
  private order: { messages: ConversationSnapshot['messages']; order: MessageOrder } | undefined
  private destroyed = false

  constructor(private readonly options: ConversationSessionOptions) {
    const { userId, conversationId } = options
    this.documentName = conversationDocumentName(conversationId)
    this.readMarker = new ReadMarkerThrottle(this.writeReadMarker)
    this.quotes = new QuotedMessages(
      (messageId) =>
        api.locateMessage(conversationId, messageId).then(({ message }) => message.content),
      this.refresh,
    )
    this.live = this.createUnit(0)
    this.history = new SegmentHistory({
      live: this.live,
      budget: options.budget,
      unsynced: new UnsyncedSegments(unsyncedSegmentsKey(userId, conversationId), () =>
        this.reportStorageFull(),
      ),
      createUnit: (segment) => this.createUnit(segment),
      locate: (messageId) =>
        api.locateMessage(conversationId, messageId).then(
          ({ message }) => message.segment,
          () => undefined,
        ),
      onChange: this.refresh,
    })
    this.snapshot = this.buildSnapshot()
  }

  subscribe = (listener: () => void): (() => void) => this.listeners.subscribe(listener)

  getSnapshot = (): ConversationSnapshot => this.snapshot

  /**
   * Awareness of the live document's current provider, for typing indicators, or null while
   * not syncing. Each reconnect creates a new provider with a new awareness, and the session
   * notifies its subscribers when that happens, so read it again on every notification.
   */
  get awareness(): HocuspocusProvider['awareness'] {
    return this.live.awareness
  }

  /** Writes a message into the open segment; the provider sends it when connected. */
  send(outgoing: OutgoingMessage): TextCheck {
    const target = this.history.openUnit
    if (!target || !this.snapshot.canSend) {
      throw new Error(`cannot write to ${this.documentName} now`)
    }
    return target.send(outgoing, this.knowsMessage)
  }

  /** Replaces the text of an own message. `mentions` are the ids of the users it names. */
  edit(messageId: MessageId, text: string, mentions: readonly UserId[]): ChangeResult {
    const unit = this.history.unitHolding(messageId)
    if (!unit?.canWrite) return { ok: false, reason: 'not_found' }
    const userId = this.options.userId
    return unit.change((doc) =>
      editMessage(doc, { messageId, userId, text, mentions: [...mentions] }),
    )
  }

  /** Deletes an own message, leaving a placeholder. */
  delete(messageId: MessageId): ChangeResult {
    const unit = this.history.unitHolding(messageId)
    if (!unit?.canWrite) return { ok: false, reason: 'not_found' }
    return unit.change((doc) => deleteMessage(doc, { messageId, userId: this.options.userId }))
  }

  /** Adds the own reaction with an emoji to a message, or removes it when present. */
  toggleReaction(messageId: MessageId, emoji: string): ReactionResult {
    const unit = this.history.unitHolding(messageId)
    if (!unit?.canWrite) return { ok: false, reason: 'not_found' }
    return unit.change((doc) => writeReaction(doc, this.options.userId, messageId, emoji))
  }

  /**
   * Moves the own read marker forward to a message, at most once per throttle interval.
   * A message before the current marker leaves it where it is.
   */
  markRead(messageId: MessageId): void {
    this.readMarker.request(messageId)
  }

  /** Starts loading the segment before the oldest one shown, or returns false if there is none. */
  loadOlder(): boolean {
    return this.history.loadOlder()
  }

  /**
   * Syncs again after a removal from the conversation, once the server lists the user as a
   * member again. A deleted conversation stays closed.
   */
  regainAccess(): void {
    if (!this.accessLost) return
    this.accessLost = false
    for (const unit of this.history.allUnits()) unit.retryAccess()
  }

  /** Takes the open segment that the conversation list reported (see SegmentHistory). */
  learnOpenSegment(open: number): void {
    this.history.learnOpenSegment(open)
  }

  /** Stops showing the oldest segment after it scrolled far out of view. */
  releaseOldest(): boolean {
    return this.history.releaseOldest()
  }

  /** Stops showing every segment older than the first page. */
  releaseToFirstPage(): void {
    this.history.releaseToFirstPage()
  }

  /**
   * Fetches from the server the original of a reply that no segment shown contains, for the
   * snapshot's `quotes`. Does nothing once it is fetched or while it is being fetched.
   */
  requestQuote(messageId: MessageId): void {
    this.quotes.request(messageId)
  }

  /** Loads older segments until one contains the message, and resolves to whether it did. */
  findEarlier(messageId: MessageId): Promise<boolean> {
    return this.history.findEarlier(messageId)
  }

  /** Deletes the local copies that the server rejected and loads them again from it. */
  async reloadFromServer(): Promise<void> {
    this.recovery.clear()
    this.resynchronization = null
    const stopped = this.history.allUnits().filter((unit) => unit.syncProblem?.kind === 'rejected')
    await Promise.all(stopped.map((unit) => unit.reloadFromServer()))
  }

  /** Hides the notice about the last resynchronization. */
  dismissResynchronization(): void {
    this.resynchronization = null
    this.refresh()
  }

  /** Shows that a write to this device's storage failed because its quota is used up. */
  reportStorageFull(): void {
    this.storageFull = true
    this.refresh()
  }

  /** Hides the notice about full storage until the next failed write. */
  dismissStorageFull(): void {
    this.storageFull = false
    this.refresh()
  }

  destroy(): void {
    this.destroyed = true
    this.readMarker.cancel()
    this.history.destroy()
    this.live.destroy()
    this.listeners.clear()
  }

  private createUnit(segment: number): DocumentSync {
    const { userId, conversationId, socket } = this.options
    return new DocumentSync({
      userId,
      documentName: segmentDocumentName(conversationId, segment),
      segment,
      socket,
      events: this.eventsFor(segment),
    })
  }

  private eventsFor(segment: number): DocumentSyncEvents {
    const { conversationId } = this.options
    return {
      onChange: this.refresh,
      onServerChange: () => this.options.onDocumentChanged(conversationId),
      onLocalWrite: () => this.history.noteLocalWrite(segment),
      onSettled: () => this.history.noteSettled(segment),
      onNotAuthenticated: () => this.options.onNotAuthenticated(),
      onAccessLost: (_reason, deleted) => this.handleAccessLost(deleted),
      onRejected: (source, reason, unsent, rejectedState) =>
        this.recovery.add(source, reason, unsent, rejectedState),
      onQuotaExceeded: () => this.reportStorageFull(),
    }
  }

  private handleAccessLost(deleted: boolean): void {
    if (deleted) {
      const { userId, conversationId, budget } = this.options
      void removeSegmentCopies(userId, conversationId).then((names) => budget.forget(names))
    }
    if (this.accessLost) return
    this.accessLost = true
    this.options.onAccessLost(this.options.conversationId)
  }

  private knowsMessage = (messageId: MessageId): boolean =>
    this.history.unitHolding(messageId) !== undefined

  private writeReadMarker = (messageId: MessageId): void => {
    if (this.destroyed || !this.live.canWrite) return
    const order = this.messageOrder()
    // A marker on a message missing here is older than every message shown once the shown
    // documents have synced and older segments exist.
    const missingIsOlder =
      this.snapshot.history.firstSegment > 0 &&
      this.history.shownUnits().every((unit) => unit.isSyncedNow)
    this.live.change((doc) =>
      writeReadMarker(doc, this.options.userId, messageId, order, missingIsOlder),
    )
  }

  private messageOrder(): MessageOrder {
    const { messages } = this.snapshot
    if (this.order?.messages !== messages) {
      const positions = new Map(messages.map((view, index) => [view.message.id, index]))
      this.order = { messages, order: (id) => positions.get(id) }
    }
    return this.order.order
  }

  private refresh = (): void => {
    if (this.destroyed) return
    this.history.update()
    const recovered = this.recovery.flush({
      live: this.live,
      open: this.history.openUnit,
      isStored: this.knowsMessage,
    })
    if (recovered) this.resynchronization = recovered
    this.snapshot = this.buildSnapshot()
    this.listeners.notify()
  }

  private buildSnapshot(): ConversationSnapshot {
    const openUnit = this.history.openUnit
    const shown = this.history.shownUnits()
    // Once the first page has loaded and synced, a segment that the server opens later loads
    // without the whole conversation showing as loading again.
    this.pageLoaded ||= openUnit?.isLoaded === true
    this.pageSynced ||= this.pageLoaded && openUnit?.hasSynced === true
    const loaded = this.live.isLoaded && this.pageLoaded
    const units = [this.live, openUnit, ...shown.toReversed()]
    const problem = units.find((unit) => unit?.syncProblem)?.syncProblem ?? null
    const contents: SegmentContent[] = shown.map((unit) => unit.read())

    return buildSnapshot({
      liveDoc: this.live.document,
      segments: contents,
      loaded,
      synced: this.live.hasSynced && this.pageSynced,
      history: this.history.view(),
      problem,
      resynchronization: this.resynchronization,
      storageFull: this.storageFull,
      canSend: loaded && this.live.canWrite && openUnit?.acceptsMessages === true,
      quotes: this.quotes.messages,
    })
  }
}
