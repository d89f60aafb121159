import type {
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeHandleAwarenessPayload,
  Extension,
  onChangePayload,
  onConfigurePayload,
} from '@hocuspocus/server'
import { parseDocumentName } from '../../shared/document-names.ts'
import type { Logger } from '../observability/logger.ts'
import type { ConversationStore } from '../persistence/conversations.ts'
import type { MessageIndex } from '../persistence/message-index.ts'
import { ListNotifier } from './list-notifier.ts'
import { PresencePolicy } from './presence-policy.ts'
import { ServerWrites } from './server-writes.ts'
import type { SyncContext } from './sync-engine.ts'
import { UnreadTracker } from './unread-tracker.ts'

export interface ChatExtensionOptions {
  conversations: ConversationStore
  messageIndex: MessageIndex
  logger: Logger
  /** Returns whether SyncEngine's update log contains updates of a document not stored yet. */
  hasUnstoredUpdates: (documentName: string) => boolean
}

/**
 * Parley's chat features on top of sync: server writes (system events, moderation), the
 * message index behind unread counts, conversation list notifications, and the presence
 * policy for awareness.
 *
 * Hocuspocus chains the hooks of every extension, and a hook that rejects stops the chain,
 * so that SyncEngine's own onChange would not run. Every hook here therefore catches its
 * errors and logs them.
 */
export class ChatExtension implements Extension<SyncContext> {
  readonly extensionName = 'parley-chat'
  readonly writes: ServerWrites
  readonly notifier: ListNotifier
  private readonly presence = new PresencePolicy()
  private readonly trackers = new Map<string, UnreadTracker>()
  private readonly log: Logger

  constructor(private readonly options: ChatExtensionOptions) {
    this.log = options.logger.child({ subsystem: 'chat' })
    this.writes = new ServerWrites(this.log, options.hasUnstoredUpdates)
    this.notifier = new ListNotifier(this.log)
  }

  onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.writes.attach(instance)
    this.notifier.attach(instance)
    return Promise.resolve()
  }

  /** Starts tracking a loaded conversation document, first comparing it with the index. */
  afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    const target = parseDocumentName(documentName)
    if (target?.kind !== 'conversation') return Promise.resolve()
    try {
      this.trackers.get(documentName)?.detach()
      const tracker = new UnreadTracker(document, target.conversationId, {
        index: this.options.messageIndex,
        memberIds: (id) => this.options.conversations.memberIds(id),
        notify: (id, userIds) => this.notifier.notify(id, userIds),
        log: this.log,
      })
      this.trackers.set(documentName, tracker)
      tracker.flush()
    } catch (error) {
      this.log.error(
        { event: 'unread_tracking_failed', documentName, err: error },
        'failed to start tracking unread messages',
      )
    }
    return Promise.resolve()
  }

  onChange({ documentName }: onChangePayload): Promise<void> {
    this.trackers.get(documentName)?.flush()
    return Promise.resolve()
  }

  afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    const tracker = this.trackers.get(documentName)
    // A document loaded again meanwhile has a tracker of its own, which stays.
    if (tracker && tracker.doc !== instance.documents.get(documentName)) {
      tracker.detach()
      this.trackers.delete(documentName)
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
    for (const tracker of this.trackers.values()) tracker.detach()
    this.trackers.clear()
    return Promise.resolve()
  }
}
