import type { Hocuspocus } from '@hocuspocus/server'
import type * as Y from 'yjs'
import {
  type ChatMessage,
  findMessageEntry,
  lastMessage,
  MODERATION_ROOT,
  OPEN_SEGMENT_KEY,
  readMessage,
  SEGMENTS_ROOT,
} from '../../shared/chat-document.ts'
import { conversationDocumentName, segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, MessageId, UserId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'
import type { MessageIndex } from '../persistence/message-index.ts'
import { announcedOpenSegment } from './history-segments.ts'
import type { OpenSegments } from './open-segments.ts'
import { appendSystemEvent, type SystemEventInput } from './system-events.ts'

/** Outcome of removing a message as a moderator. */
export type ModerationResult = 'moderated' | 'not_found'

/**
 * Maximum time a request waits for its system event, in ms. A client that opens the document
 * after the response then usually finds the event; a slower write finishes in the background.
 */
const SYSTEM_EVENT_WAIT_MS = 1_000
/** Maximum wait, in ms, for the update log to store a server write before the unload. */
const STORE_WAIT_MS = 5_000
const STORE_POLL_MS = 5
/**
 * Time a written document stays loaded, in ms. ConversationActivity records conversation
 * activity 250 ms after a change, from the document instance it saw then, and meanwhile
 * ignores further changes. A client change to a copy loaded after an earlier unload would
 * be missed.
 */
const ACTIVITY_SETTLE_MS = 300

/** Dependencies of ServerWrites. */
export interface ServerWritesOptions {
  log: Logger
  /** Returns whether the update log contains updates of a document not stored yet. */
  hasUnstoredUpdates: (documentName: string) => boolean
  /** Finds the segment that contains a message, for moderation. */
  messageIndex: Pick<MessageIndex, 'locate'>
  openSegments: Pick<OpenSegments, 'get'>
  /** Waits until the server's client id of a loaded document is bound to the server. */
  serverClientBound: (documentName: string, document: Y.Doc) => Promise<void>
}

/**
 * Writes to conversation documents on the server's behalf, into the roots only the server
 * writes, through a Hocuspocus direct connection. Its transactions have a `local` origin,
 * so SyncEngine appends them to the update log and Redis relays them like client updates.
 */
export class ServerWrites {
  private hocuspocus: Hocuspocus | undefined
  private readonly log: Logger

  constructor(private readonly options: ServerWritesOptions) {
    this.log = options.log
  }

  /** Sets the Hocuspocus instance to write through, once it is configured. */
  attach(hocuspocus: Hocuspocus): void {
    this.hocuspocus = hocuspocus
  }

  /**
   * Appends a system event to a conversation, waiting at most SYSTEM_EVENT_WAIT_MS for it.
   * A failure is logged and never rejects, so that an API change that already succeeded
   * does not fail for its timeline entry.
   */
  async recordSystemEvent(conversationId: ConversationId, input: SystemEventInput): Promise<void> {
    const written = this.appendSystemEvent(conversationId, input)
    const logged = written.catch((error: unknown) =>
      this.log.error(
        { event: 'system_event_failed', conversationId, type: input.type, err: error },
        'failed to write a system event',
      ),
    )
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SYSTEM_EVENT_WAIT_MS)
    })
    await Promise.race([logged, timeout])
    clearTimeout(timer)
  }

  /**
   * Removes a message as a moderator, in the document of the segment that contains it: records
   * who removed it under that document's `moderation`, and clears its text and mentions in
   * the same transaction. A message removed before keeps its first moderation record. A
   * message that the index lacks is looked for in the open segment and the one before it,
   * where the newest messages are. Rejects when a document cannot be loaded.
   */
  async moderateMessage(
    conversationId: ConversationId,
    messageId: MessageId,
    moderatorId: UserId,
  ): Promise<ModerationResult> {
    const located = await this.options.messageIndex.locate(conversationId, messageId)
    const segments = located
      ? [located.segment]
      : newestSegments(await this.options.openSegments.get(conversationId))
    for (const segment of segments) {
      const documentName = segmentDocumentName(conversationId, segment)
      const result = await this.moderateIn(documentName, messageId, moderatorId)
      if (result === 'moderated') return result
    }
    return 'not_found'
  }

  /**
   * Returns a message as the document of a segment contains it now, or undefined when that
   * document lacks it. Loads the document when no connection has it open.
   */
  readMessage(
    conversationId: ConversationId,
    segment: number,
    messageId: MessageId,
  ): Promise<ChatMessage | undefined> {
    return this.read(segmentDocumentName(conversationId, segment), (doc) =>
      readMessage(findMessageEntry(doc, messageId), doc),
    )
  }

  /**
   * Announces the open segment in the live document's `segments` map. The value written is
   * `latest()` at the time of the write, and a larger value already there stays, so that
   * announcements that cross each other never lower it.
   */
  async announceOpenSegment(conversationId: ConversationId, latest: () => number): Promise<void> {
    await this.write(conversationDocumentName(conversationId), (doc) => {
      const open = latest()
      if (announcedOpenSegment(doc) < open) doc.getMap(SEGMENTS_ROOT).set(OPEN_SEGMENT_KEY, open)
    })
  }

  /**
   * Appends a system event after the conversation's newest message: the last one of the open
   * segment, or of the segment before it while the open one is still empty.
   */
  private async appendSystemEvent(
    conversationId: ConversationId,
    input: SystemEventInput,
  ): Promise<void> {
    const open = await this.options.openSegments.get(conversationId)
    // Segment 0 is the live document that the event goes into, which is read in the write.
    let afterMessageId: MessageId | null | undefined
    if (open > 0) {
      afterMessageId = null
      for (const segment of newestSegments(open)) {
        const name = segmentDocumentName(conversationId, segment)
        afterMessageId = await this.read(name, (doc) => lastMessage(doc)?.id ?? null)
        if (afterMessageId) break
      }
    }
    await this.write(conversationDocumentName(conversationId), (doc) =>
      appendSystemEvent(doc, input, Date.now(), afterMessageId),
    )
  }

  private async moderateIn(
    documentName: string,
    messageId: MessageId,
    moderatorId: UserId,
  ): Promise<ModerationResult> {
    let result: ModerationResult = 'not_found'
    await this.write(documentName, (doc) => {
      const entry = findMessageEntry(doc, messageId)
      if (!entry) return
      result = 'moderated'
      const moderation = doc.getMap(MODERATION_ROOT)
      if (!moderation.has(messageId)) moderation.set(messageId, { by: moderatorId, at: Date.now() })
      if (entry.get('text') !== '') entry.set('text', '')
      if (entry.has('mentions')) entry.delete('mentions')
    })
    return result
  }

  /** Reads a document through a direct connection, loading it when no connection has it open. */
  private async read<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T> {
    if (!this.hocuspocus) throw new Error('server writes are not attached to Hocuspocus yet')
    const connection = await this.hocuspocus.openDirectConnection(documentName, {})
    try {
      if (!connection.document) throw new Error(`direct connection to ${documentName} is closed`)
      return read(connection.document)
    } finally {
      // Nothing was written, so the document may unload at once. The close is not awaited,
      // for the same reason as in write.
      connection
        .disconnect()
        .catch((error: unknown) =>
          this.log.error(
            { event: 'direct_connection_close_failed', documentName, err: error },
            'failed to close a direct connection',
          ),
        )
    }
  }

  private async write(documentName: string, change: (doc: Y.Doc) => void): Promise<void> {
    if (!this.hocuspocus) throw new Error('server writes are not attached to Hocuspocus yet')
    // Loads the document through onLoadDocument when no connection has it open.
    const connection = await this.hocuspocus.openDirectConnection(documentName, {})
    let stored = false
    try {
      if (connection.document) {
        await this.options.serverClientBound(documentName, connection.document)
      }
      await connection.transact(change)
      const settled = sleep(ACTIVITY_SETTLE_MS)
      stored = await this.waitUntilStored(documentName)
      // A document that clients have open stays loaded anyway. getConnectionsCount would
      // count this direct connection too.
      if (connection.document?.connections.size === 0) await settled
    } finally {
      // SyncEngine refuses to unload a document with unstored updates, and nothing would try
      // again until another connection to it closes. So the document is unloaded at once
      // only when the write is stored, and otherwise after Hocuspocus's store debounce (2 s).
      // The close is not awaited: with Redis, Hocuspocus delays it by a second after storing.
      connection
        .disconnect({ unloadImmediately: stored })
        .catch((error: unknown) =>
          this.log.error(
            { event: 'direct_connection_close_failed', documentName, err: error },
            'failed to close a direct connection',
          ),
        )
    }
  }

  /** Waits until SyncEngine has stored the document's updates. Returns false after STORE_WAIT_MS. */
  private async waitUntilStored(documentName: string): Promise<boolean> {
    const deadline = Date.now() + STORE_WAIT_MS
    // Hocuspocus runs SyncEngine's onChange, which queues the update, in a later microtask
    // than the transaction, so the first check comes after a timer.
    do {
      await sleep(STORE_POLL_MS)
      if (Date.now() > deadline) return false
    } while (this.options.hasUnstoredUpdates(documentName))
    return true
  }
}

/** Returns the open segment and the one before it, newest first. */
function newestSegments(open: number): number[] {
  return open > 0 ? [open, open - 1] : [0]
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
