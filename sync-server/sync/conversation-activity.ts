import type * as Y from 'yjs'
import { type ChatMessage, lastMessage, messagesOf } from '../../shared/chat-document.ts'
import { segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'
import type { ConversationStore } from '../persistence/conversations.ts'

/** Delay before the conversation list's preview follows a change, so bursts write once. */
export const ACTIVITY_DELAY_MS = 250
/** Characters of the newest message kept as the conversation list's preview. */
const PREVIEW_MAX_CHARS = 200

/** Dependencies of ConversationActivity. */
export interface ConversationActivityDeps {
  conversations: Pick<ConversationStore, 'recordActivity'>
  openSegment(conversationId: ConversationId): Promise<number>
  /** Returns this instance's loaded copy of a document, or undefined. */
  loadedDocument(documentName: string): Y.Doc | undefined
  /** Returns whether the index contains any message of a segment. */
  segmentHasMessages(conversationId: ConversationId, segment: number): Promise<boolean>
  log: Logger
}

/** The documents of one conversation that changed since its activity was last recorded. */
interface PendingActivity {
  timer: NodeJS.Timeout
  /** Changed documents by segment, in case they are unloaded before the timer fires. */
  changed: Map<number, Y.Doc>
}

/**
 * Records a conversation's newest message as the preview and activity time of the
 * conversation list, ACTIVITY_DELAY_MS after a change to any of its documents. The newest
 * message is the last of the open segment, or of the segment before it while the open one
 * has none yet.
 */
export class ConversationActivity {
  private readonly pending = new Map<ConversationId, PendingActivity>()

  constructor(private readonly deps: ConversationActivityDeps) {}

  /** Schedules a record after a change to a document of the conversation. */
  schedule(conversationId: ConversationId, segment: number, document: Y.Doc): void {
    const queued = this.pending.get(conversationId)
    if (queued) {
      queued.changed.set(segment, document)
      return
    }
    const timer = setTimeout(() => {
      const changed = this.pending.get(conversationId)?.changed ?? new Map<number, Y.Doc>()
      this.pending.delete(conversationId)
      void this.record(conversationId, changed)
    }, ACTIVITY_DELAY_MS)
    this.pending.set(conversationId, { timer, changed: new Map([[segment, document]]) })
  }

  /** Cancels the scheduled records, for shutdown. */
  stop(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer)
    this.pending.clear()
  }

  private async record(conversationId: ConversationId, changed: Map<number, Y.Doc>) {
    try {
      const last = await this.newestMessage(conversationId, changed)
      if (last === 'unknown') return
      const now = new Date()
      // The preview keeps the list light, and a device clock ahead of the server's is clamped.
      const preview = last && {
        authorId: last.authorId,
        text: last.text.slice(0, PREVIEW_MAX_CHARS),
        createdAt: new Date(Math.min(last.createdAt, now.getTime())),
      }
      await this.deps.conversations.recordActivity(conversationId, preview, now)
    } catch (error) {
      this.deps.log.error(
        { event: 'activity_record_failed', conversationId, err: error },
        'failed to record conversation activity',
      )
    }
  }

  /**
   * Finds the conversation's newest message in the documents at hand: the loaded copy of a
   * segment's document, else the copy that changed, which may have been unloaded since.
   * Returns 'unknown' when the document that contains it is not at hand, so that the preview
   * stays as it is.
   */
  private async newestMessage(
    conversationId: ConversationId,
    changed: Map<number, Y.Doc>,
  ): Promise<ChatMessage | undefined | 'unknown'> {
    const documentOf = (segment: number) =>
      this.deps.loadedDocument(segmentDocumentName(conversationId, segment)) ?? changed.get(segment)
    let open = await this.deps.openSegment(conversationId)
    // A segment with messages was open once, so a cached number below it is stale.
    for (const [segment, document] of changed) {
      if (segment > open && messagesOf(document).length > 0) open = segment
    }
    const openDocument = documentOf(open)
    const newest = openDocument && lastMessage(openDocument)
    if (newest) return newest
    // An empty live document is an empty conversation.
    if (open === 0) return openDocument ? undefined : 'unknown'
    if (!openDocument && (await this.deps.segmentHasMessages(conversationId, open))) {
      return 'unknown'
    }
    const previous = documentOf(open - 1)
    return (previous && lastMessage(previous)) ?? 'unknown'
  }
}
