import { isTransactionOrigin } from '@hocuspocus/server'
import type * as Y from 'yjs'
import { messagesOf, openSegment, SEGMENTS_ROOT } from '../../shared/chat-document.ts'
import type { DocumentTarget } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'
import type { SegmentStore } from '../persistence/segment-store.ts'
import type { OpenSegments } from './open-segments.ts'
import type { ServerWrites } from './server-writes.ts'

/** Dependencies of HistorySegments. */
export interface HistorySegmentsOptions {
  store: SegmentStore
  openSegments: OpenSegments
  writes: Pick<ServerWrites, 'announceOpenSegment'>
  /** Messages after which the open segment is closed. */
  segmentMessages: number
  log: Logger
}

/**
 * The server's side of history segments. The instance that accepts an update to the open
 * segment's document closes that segment once the document contains `segmentMessages`
 * messages: the database decides which instance closes it, and that instance announces the
 * next segment in the live document's `segments` map.
 */
export class HistorySegments {
  /** Segments whose closing is in flight on this instance, as `conversationId:segment`. */
  private readonly closing = new Set<string>()
  /** Conversations whose announcement is in flight, and whether another one is requested. */
  private readonly announcing = new Map<ConversationId, { again: boolean }>()

  constructor(private readonly options: HistorySegmentsOptions) {}

  /** Returns a conversation's open segment, read past the cache when `fresh` is set. */
  openSegment(conversationId: ConversationId, fresh = false): Promise<number> {
    return this.options.openSegments.get(conversationId, fresh)
  }

  /**
   * Closes the open segment when a change that this instance accepted, from a client or its
   * own write, filled the segment's document. Changes relayed through Redis were accepted
   * by another instance, which closes the segment itself.
   */
  afterChange(target: DocumentTarget, doc: Y.Doc, origin: unknown): void {
    if (target.kind === 'user') return
    if (isTransactionOrigin(origin) && origin.source === 'redis') return
    const messages = messagesOf(doc).length
    if (messages < this.options.segmentMessages) return
    const segment = target.kind === 'segment' ? target.segment : 0
    void this.close(target.conversationId, segment, messages)
  }

  /**
   * Follows the live document's `segments` map: raises the cached open segment as soon as the
   * map announces a new one, and announces the cached number again when the map contains a
   * lower one. That happens when two announcements crossed and the older won, or when an
   * instance stopped between closing a segment and announcing the next. Returns a function
   * that stops following.
   */
  watch(conversationId: ConversationId, liveDoc: Y.Doc): () => void {
    const follow = () => {
      const announced = announcedOpenSegment(liveDoc)
      const known = this.options.openSegments.raise(conversationId, announced)
      if (known > announced) this.announce(conversationId)
    }
    // The document's update event rather than an observer of the map, because observing it
    // would add the root to a document that lacks it.
    liveDoc.on('update', follow)
    follow()
    return () => liveDoc.off('update', follow)
  }

  /**
   * Makes sure the live document announces the open segment after a client wrote a new
   * message into a closed one, since that client reads the open segment from there.
   */
  closedSegmentWritten(conversationId: ConversationId): void {
    this.announce(conversationId)
  }

  private async close(
    conversationId: ConversationId,
    segment: number,
    messages: number,
  ): Promise<void> {
    const key = `${conversationId}:${segment}`
    if (this.closing.has(key)) return
    this.closing.add(key)
    const { openSegments, store, log } = this.options
    try {
      if ((await openSegments.get(conversationId)) !== segment) return
      if (!(await store.closeSegment(conversationId, segment))) {
        // Another instance closed it first and announces the next one.
        await openSegments.get(conversationId, true)
        return
      }
      // Raised before the announcement, so that this instance rejects new messages in the
      // closed segment from now on.
      openSegments.raise(conversationId, segment + 1)
      log.info(
        { event: 'segment_closed', conversationId, segment, messages },
        'closed a history segment',
      )
    } catch (error) {
      log.error(
        { event: 'segment_close_failed', conversationId, segment, err: error },
        'failed to close a history segment',
      )
      return
    } finally {
      this.closing.delete(key)
    }
    this.announce(conversationId)
  }

  /**
   * Writes the cached open segment into the live document, one write at a time per
   * conversation. A request during a write runs another write after it, since the number
   * may have grown after the first one read it.
   */
  private announce(conversationId: ConversationId): void {
    const inFlight = this.announcing.get(conversationId)
    if (inFlight) {
      inFlight.again = true
      return
    }
    const state = { again: false }
    this.announcing.set(conversationId, state)
    const { openSegments, writes, log } = this.options
    writes
      .announceOpenSegment(conversationId, () => openSegments.peek(conversationId) ?? 0)
      .catch((error: unknown) =>
        // A client that writes into the closed segment meanwhile triggers the next attempt.
        log.error(
          { event: 'segment_announce_failed', conversationId, err: error },
          'failed to announce the open history segment',
        ),
      )
      .finally(() => {
        this.announcing.delete(conversationId)
        if (state.again) this.announce(conversationId)
      })
  }
}

/**
 * Reads the open segment that a live document announces. A document without the `segments`
 * root is left without it, so that the server's copy keeps the same roots as the clients'.
 */
export function announcedOpenSegment(liveDoc: Y.Doc): number {
  return liveDoc.share.has(SEGMENTS_ROOT) ? openSegment(liveDoc) : 0
}
