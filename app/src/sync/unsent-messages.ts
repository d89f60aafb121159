import type * as Y from 'yjs'
import { findMessageEntry, readMessage } from '../../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../../shared/ids.ts'
import type { OutgoingMessage } from './conversation-writes.ts'
import { writeMessage } from './conversation-writes.ts'

/** An own message that the server had not acknowledged when the local copy was dropped. */
export interface UnsentMessage extends OutgoingMessage {
  id: MessageId
}

/** Reads the own unsent messages out of a document before it is dropped. */
export function readUnsentMessages(
  doc: Y.Doc,
  userId: UserId,
  ids: readonly MessageId[],
): UnsentMessage[] {
  const unsent: UnsentMessage[] = []
  for (const id of ids) {
    const message = readMessage(findMessageEntry(doc, id), doc)
    if (!message || message.authorId !== userId || message.deleted) continue
    unsent.push({ id, text: message.text, replyTo: message.replyTo, mentions: message.mentions })
  }
  return unsent
}

/**
 * Writes unsent messages again, as new messages with new ids, into a document just synced
 * from the server. A message whose old id `isStored` finds was stored before the rejection
 * and is skipped. By default `isStored` looks in `doc`, but the rejected copy may have been
 * another history segment. Returns the new ids and how many could not be written.
 */
export function writeUnsentAgain(
  doc: Y.Doc,
  userId: UserId,
  unsent: readonly UnsentMessage[],
  isStored: (id: MessageId) => boolean = (id) => findMessageEntry(doc, id) !== undefined,
): { written: MessageId[]; lost: number } {
  const written: MessageId[] = []
  let lost = 0
  for (const message of unsent) {
    if (isStored(message.id)) continue
    const result = writeMessage(doc, userId, message, isStored)
    if (result.ok) written.push(result.message.id)
    else lost++
  }
  return { written, lost }
}
