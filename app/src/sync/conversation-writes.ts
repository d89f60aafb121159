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

/**
 * Appends an own message. A reply target that `knowsMessage` does not find is left out. By
 * default it looks in this document only, but the original of a reply may sit in another
 * history segment.
 */
export function writeMessage(
  doc: Y.Doc,
  userId: UserId,
  outgoing: OutgoingMessage,
  knowsMessage: (id: MessageId) => boolean = (id) => findMessageEntry(doc, id) !== undefined,
): { ok: true; message: ChatMessage } | Extract<TextCheck, { ok: false }> {
  const check = checkMessageText(outgoing.text)
  if (!check.ok) return check

  const replyTo = outgoing.replyTo && knowsMessage(outgoing.replyTo) ? outgoing.replyTo : undefined
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

/** Position of a message in conversation order, or undefined when this copy lacks it. */
export type MessageOrder = (messageId: MessageId) => number | undefined

/** Returns the order of the messages of one document. */
export function documentOrder(doc: Y.Doc): MessageOrder {
  const positions = new Map<unknown, number>()
  let index = 0
  for (const entry of messagesOf(doc)) positions.set(entry.get('id'), index++)
  return (messageId) => positions.get(messageId)
}

/**
 * Moves the user's read marker, stored in `doc`, to a message when that message comes after
 * the current one in `order`. Returns whether it wrote. A marker on a message that `order`
 * lacks stays, because another device of the same user most likely read a newer message that
 * has not arrived here yet. Pass `missingIsOlder` when every newer message is here, so that
 * the missing one must be in an older history segment.
 */
export function writeReadMarker(
  doc: Y.Doc,
  userId: UserId,
  messageId: MessageId,
  order: MessageOrder = documentOrder(doc),
  missingIsOlder = false,
): boolean {
  const current = readMarkers(doc).get(userId)?.messageId
  if (current === messageId) return false

  const targetIndex = order(messageId)
  if (targetIndex === undefined) return false
  if (current !== undefined) {
    const currentIndex = order(current)
    if (currentIndex === undefined && !missingIsOlder) return false
    if (currentIndex !== undefined && targetIndex <= currentIndex) return false
  }

  setReadMarker(doc, { userId, messageId })
  return true
}
