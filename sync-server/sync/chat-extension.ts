import type {
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeHandleAwarenessPayload,
  Extension,
  Hocuspocus,
  onChangePayload,
  onConfigurePayload,
} from '@hocuspocus/server'
import type * as Y from 'yjs'
import {
  conversationDocumentName,
  type DocumentTarget,
  parseDocumentName,
  segmentDocumentName,
} from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'
import type { ConversationStore } from '../persistence/conversations.ts'
import type { MessageIndex } from '../persistence/message-index.ts'
import type { SegmentStore } from '../persistence/segment-store.ts'
import { ConversationActivity } from './conversation-activity.ts'
import { HistorySegments } from './history-segments.ts'
import { ListNotifier } from './list-notifier.ts'
import type { OpenSegments } from './open-segments.ts'
import { PresencePolicy } from './presence-policy.ts'
import { ServerWrites } from './server-writes.ts'
import type { SyncContext } from './sync-engine.ts'
import { UnreadTracker } from './unread-tracker.ts'

export interface ChatExtensionOptions {
  conversations: ConversationStore
  messageIndex: MessageIndex
  segmentStore: SegmentStore
  openSegments: OpenSegments
  /** Messages after which the open history segment is closed. */
  segmentMessages: number
  logger: Logger
  /** Returns whether SyncEngine's update log contains updates of a document not stored yet. */
  hasUnstoredUpdates: (documentName: string) => boolean
  /** Waits until SyncEngine has bound the server's client id of a loaded document. */
  serverClientBound: (documentName: string, document: Y.Doc) => Promise<void>
}

/** Target of a conversation document: the live document (segment 0) or a history segment. */
type ConversationTarget = Exclude<DocumentTarget, { kind: 'user' }>

/**
 * Parley's chat features on top of sync: server writes (system events, moderation), history
 * segments, the message index behind unread counts, the conversation list's activity and
 * notifications, and the presence policy for awareness.
 *
 * Hocuspocus chains the hooks of every extension, and a hook that rejects stops the chain,
 * so that SyncEngine's own onChange would not run. Every hook here therefore catches its
 * errors and logs them.
 */
export class ChatExtension implements Extension<SyncContext> {
  readonly extensionName = 'parley-chat'
  readonly writes: ServerWrites
  readonly notifier: ListNotifier
  readonly segments: HistorySegments
  private readonly activity: ConversationActivity
  private readonly presence = new PresencePolicy()
  private readonly trackers = new Map<string, UnreadTracker>()
  /** Live documents whose `segments` map is followed, with the function that stops it. */
  private readonly watches = new Map<string, { doc: Y.Doc; stop: () => void }>()
  private hocuspocus: Hocuspocus | undefined
  private readonly log: Logger

  constructor(private readonly options: ChatExtensionOptions) {
    this.log = options.logger.child({ subsystem: 'chat' })
    this.writes = new ServerWrites({
      log: this.log,
      hasUnstoredUpdates: options.hasUnstoredUpdates,
      messageIndex: options.messageIndex,
      openSegments: options.openSegments,
      serverClientBound: options.serverClientBound,
    })
    this.notifier = new ListNotifier(this.log, (id) => options.conversations.memberIds(id))
    this.segments = new HistorySegments({
      store: options.segmentStore,
      openSegments: options.openSegments,
      writes: this.writes,
      segmentMessages: options.segmentMessages,
      log: this.log,
    })
    this.activity = new ConversationActivity({
      conversations: options.conversations,
      openSegment: (id) => options.openSegments.get(id),
      loadedDocument: (name) => this.hocuspocus?.documents.get(name),
      segmentHasMessages: async (id, segment) =>
        (await options.messageIndex.count(id, segment)) > 0,
      log: this.log,
    })
  }

  /**
   * Writes the pending index changes of a conversation's documents on this instance now,
   * for example before a new member's read position is taken from the index, so that the
   * messages acknowledged before count as read. Never rejects: a failed write is logged and
   * retried by its tracker.
   */
  async indexPending(conversationId: ConversationId): Promise<void> {
    const prefix = conversationDocumentName(conversationId)
    const flushes = [...this.trackers]
      .filter(([name]) => name === prefix || name.startsWith(`${prefix}:`))
      .map(([, tracker]) => tracker.flushNow())
    await Promise.allSettled(flushes)
  }

  /**
   * Loads a conversation document, writes what the message index lacks of it, and lets it
   * unload again. Does nothing for other documents.
   */
  async reindex(documentName: string): Promise<void> {
    if (!conversationTarget(documentName) || !this.hocuspocus) return
    const connection = await this.hocuspocus.openDirectConnection(documentName, {})
    try {
      // The tracker started on load compares the whole document with the index.
      await this.trackers.get(documentName)?.flushNow()
    } finally {
      await connection.disconnect()
    }
  }

  onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.hocuspocus = instance
    this.writes.attach(instance)
    this.notifier.attach(instance)
    return Promise.resolve()
  }

  /**
   * Starts tracking a loaded conversation document, first comparing it with the index, and
   * follows the open segment that a live document announces.
   */
  afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    const target = conversationTarget(documentName)
    if (!target) return Promise.resolve()
    try {
      this.startTracking(documentName, document, target)
      if (target.kind === 'conversation') {
        this.watches.get(documentName)?.stop()
        const stop = this.segments.watch(target.conversationId, document)
        this.watches.set(documentName, { doc: document, stop })
      }
    } catch (error) {
      this.log.error(
        { event: 'document_tracking_failed', documentName, err: error },
        'failed to start tracking a conversation document',
      )
    }
    return Promise.resolve()
  }

  onChange({ documentName, document, transactionOrigin }: onChangePayload): Promise<void> {
    this.trackers.get(documentName)?.flush()
    const target = conversationTarget(documentName)
    if (!target) return Promise.resolve()
    try {
      this.segments.afterChange(target, document, transactionOrigin)
      this.activity.schedule(target.conversationId, segmentOf(target), document)
    } catch (error) {
      this.log.error(
        { event: 'conversation_change_failed', documentName, err: error },
        'failed to follow a conversation change',
      )
    }
    return Promise.resolve()
  }

  afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    const loaded = instance.documents.get(documentName)
    const tracker = this.trackers.get(documentName)
    // A document loaded again meanwhile has a tracker of its own, which stays.
    if (tracker && tracker.doc !== loaded) {
      tracker.detach()
      this.trackers.delete(documentName)
    }
    const watch = this.watches.get(documentName)
    if (watch && watch.doc !== loaded) {
      watch.stop()
      this.watches.delete(documentName)
    }
    return Promise.resolve()
  }

  beforeHandleAwareness(data: beforeHandleAwarenessPayload<SyncContext>): Promise<void> {
    try {
      this.presence.apply({
        states: data.states,
        current: data.document.awareness.getStates(),
        connection: data.connection,
        userId: data.context?.userId,
      })
    } catch (error) {
      // Applying nothing is the safe side, because y-protocols renews a client's state every 15 s.
      data.states.clear()
      this.log.error(
        { event: 'awareness_policy_failed', documentName: data.documentName, err: error },
        'failed to check an awareness update; dropped it',
      )
    }
    return Promise.resolve()
  }

  onDestroy(): Promise<void> {
    this.notifier.stop()
    this.activity.stop()
    for (const tracker of this.trackers.values()) tracker.detach()
    this.trackers.clear()
    for (const watch of this.watches.values()) watch.stop()
    this.watches.clear()
    return Promise.resolve()
  }

  private startTracking(documentName: string, document: Y.Doc, target: ConversationTarget) {
    this.trackers.get(documentName)?.detach()
    const tracker = new UnreadTracker(document, target.conversationId, segmentOf(target), {
      index: this.options.messageIndex,
      notify: (id, userIds) => this.notifier.notify(id, userIds),
      notifyMembers: (id) => this.notifier.notifyMembers(id),
      segmentDocument: (id, segment) => this.trackers.get(segmentDocumentName(id, segment))?.doc,
      indexed: (id: ConversationId) =>
        this.trackers.get(conversationDocumentName(id))?.retryPendingReaders(),
      log: this.log,
    })
    this.trackers.set(documentName, tracker)
    tracker.flush()
  }
}

function conversationTarget(documentName: string): ConversationTarget | undefined {
  const target = parseDocumentName(documentName)
  return target?.kind === 'user' ? undefined : target
}

function segmentOf(target: ConversationTarget): number {
  return target.kind === 'segment' ? target.segment : 0
}
