import type * as Y from 'yjs'
import type { ChatMessage, TextCheck } from '../../../shared/chat-document.ts'
import {
  checkMessageText,
  findMessageEntry,
  MAX_MENTIONS,
  messagesOf,
  parseReactionKey,
  reactionKey,
  readMarkers,
  sendMessage,
  setReadMarker,
  toggleReaction,
} from '../../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../../shared/ids.ts'

// Each write here checks first what the server checks before it applies an update, so that an
// up-to-date client never sends a change that closes the document with invalid_update.

/** A new message as the composer sends it. */
export interface OutgoingMessage {
  text: string
  replyTo?: MessageId
  mentions?: readonly UserId[]
}

/** Outcome of a reaction toggle. */
export type ReactionResult =
  { ok: true; added: boolean } | { ok: false; reason: 'not_found' | 'invalid_reaction' }

/** Appends an own message. A reply target missing from the document is left out. */
export function writeMessage(
  doc: Y.Doc,
  userId: UserId,
  outgoing: OutgoingMessage,
): { ok: true; message: ChatMessage } | Extract<TextCheck, { ok: false }> {
  const check = checkMessageText(outgoing.text)
  if (!check.ok) return check

  const replyTo =
    outgoing.replyTo && findMessageEntry(doc, outgoing.replyTo) ? outgoing.replyTo : undefined
  const message = sendMessage(doc, {
    authorId: userId,
    text: outgoing.text,
    replyTo,
    mentions: outgoing.mentions?.slice(0, MAX_MENTIONS),
  })
  return { ok: true, message }
}

/** Toggles the user's own reaction, only on a message the document contains. */
export function writeReaction(
  doc: Y.Doc,
  userId: UserId,
  messageId: MessageId,
  emoji: string,
): ReactionResult {
  if (!findMessageEntry(doc, messageId)) return { ok: false, reason: 'not_found' }
  if (!parseReactionKey(reactionKey(messageId, userId, emoji))) {
    return { ok: false, reason: 'invalid_reaction' }
  }
  return { ok: true, added: toggleReaction(doc, { messageId, userId, emoji }) }
}

/**
 * Moves the user's read marker to a message when that message comes after the current one.
 * Returns whether it wrote. A marker that points to a message this copy lacks stays: another
 * device of the same user most likely read a newer message that has not arrived here yet.
 */
export function writeReadMarker(doc: Y.Doc, userId: UserId, messageId: MessageId): boolean {
  const current = readMarkers(doc).get(userId)?.messageId
  if (current === messageId) return false

  let targetIndex = -1
  let currentIndex = -1
  let index = 0
  for (const entry of messagesOf(doc)) {
    const id: unknown = entry.get('id')
    if (id === messageId) targetIndex = index
    if (id === current) currentIndex = index
    index++
  }
  if (targetIndex < 0) return false
  if (current !== undefined && (currentIndex < 0 || targetIndex <= currentIndex)) return false

  setReadMarker(doc, { userId, messageId })
  return true
}
