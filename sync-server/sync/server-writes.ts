import type { Hocuspocus } from '@hocuspocus/server'
import type * as Y from 'yjs'
import { findMessageEntry, MODERATION_ROOT } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, MessageId, UserId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'
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
 * Time a written document stays loaded, in ms. SyncEngine records conversation activity
 * 250 ms after a change, from the document instance it saw then, and meanwhile ignores
 * further changes. A client change to a copy loaded after an earlier unload would be missed.
 */
const ACTIVITY_SETTLE_MS = 300

/**
 * Writes to conversation documents on the server's behalf, into the roots only the server
 * writes, through a Hocuspocus direct connection. Its transactions have a `local` origin,
 * so SyncEngine appends them to the update log and Redis relays them like client updates.
 */
export class ServerWrites {
  private hocuspocus: Hocuspocus | undefined

  constructor(
    private readonly log: Logger,
    /** Returns whether the update log contains updates of a document not stored yet. */
    private readonly hasUnstoredUpdates: (documentName: string) => boolean,
  ) {}

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
    const written = this.write(conversationId, (doc) => appendSystemEvent(doc, input, Date.now()))
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
   * Removes a message as a moderator: records who removed it under `moderation`, and clears
   * its text and mentions in the same transaction. A message removed before keeps its first
   * moderation record. Rejects when the document cannot be loaded.
   */
  async moderateMessage(
    conversationId: ConversationId,
    messageId: MessageId,
    moderatorId: UserId,
  ): Promise<ModerationResult> {
    let result: ModerationResult = 'not_found'
    await this.write(conversationId, (doc) => {
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

  private async write(conversationId: ConversationId, change: (doc: Y.Doc) => void): Promise<void> {
    if (!this.hocuspocus) throw new Error('server writes are not attached to Hocuspocus yet')
    const documentName = conversationDocumentName(conversationId)
    // Loads the document through onLoadDocument when no connection has it open.
    const connection = await this.hocuspocus.openDirectConnection(documentName, {})
    let stored = false
    try {
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
    } while (this.hasUnstoredUpdates(documentName))
    return true
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
