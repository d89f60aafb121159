import * as Y from 'yjs'
import {
  deleteMessage,
  editMessage,
  findMessageEntry,
  messagesOf,
  parseReactionKey,
  REACTIONS_ROOT,
  readMessage,
} from '../../../shared/chat-document.ts'
import type { UserId } from '../../../shared/ids.ts'

/** Highest clock plus one of each Yjs client, as a state vector lists them. */
type Clocks = Map<number, number>

/**
 * Writes again the own changes other than new messages that a rejected copy held and the
 * server never stored: edits, deletions, and added and removed reactions. `doc` is the copy
 * synced again from the server, `rejected` the dropped copy's state. A change counts as
 * unsent when the server's state vector does not reach its Yjs item, so a change that reached
 * the server before the rejection is not written twice. Each change goes through the checks
 * of a change made in the app: an edit older than the server's, or one to a message deleted
 * meanwhile, is dropped. New messages are left to writeUnsentAgain, and the read marker to
 * the app, which moves it again once the messages are shown. Returns how many changes were
 * written.
 */
export function writeUnsentChangesAgain(doc: Y.Doc, rejected: Uint8Array, userId: UserId): number {
  const old = new Y.Doc()
  try {
    Y.applyUpdate(old, rejected)
    const server = clocksOf(doc)
    let written = 0
    doc.transact(() => {
      written += writeMessageChanges(doc, old, server, userId)
      written += writeReactionChanges(doc, old, server, userId)
    })
    return written
  } finally {
    old.destroy()
  }
}

function clocksOf(doc: Y.Doc): Clocks {
  return Y.decodeStateVector(Y.encodeStateVector(doc))
}

function reaches(clocks: Clocks, id: Y.ID): boolean {
  return id.clock < (clocks.get(id.client) ?? 0)
}

/** Edits and deletions of own messages that the server stored before the rejection. */
function writeMessageChanges(doc: Y.Doc, old: Y.Doc, server: Clocks, userId: UserId): number {
  let written = 0
  for (const entry of messagesOf(old)) {
    const message = readMessage(entry, old)
    if (!message || message.authorId !== userId) continue
    // A message the server never stored is written again as a new one.
    if (!entry._item || !reaches(server, entry._item.id)) continue
    const current = readMessage(findMessageEntry(doc, message.id), doc)
    if (!current || current.deleted) continue

    if (message.deleted) {
      const deletion = entry._map.get('deleted')
      if (!deletion || reaches(server, deletion.id)) continue
      if (deleteMessage(doc, { messageId: message.id, userId }).ok) written++
      continue
    }
    const text = entry._map.get('text')
    if (!text || reaches(server, text.id) || message.editedAt === undefined) continue
    // Another device of the same user may have edited the message later.
    if (current.text === message.text || (current.editedAt ?? 0) >= message.editedAt) continue
    const edit = editMessage(doc, {
      messageId: message.id,
      userId,
      text: message.text,
      mentions: message.mentions,
      now: message.editedAt,
    })
    if (edit.ok) written++
  }
  return written
}

/** Own reactions added or removed in the rejected copy. */
function writeReactionChanges(doc: Y.Doc, old: Y.Doc, server: Clocks, userId: UserId): number {
  if (!old.share.has(REACTIONS_ROOT)) return 0
  const before = old.getMap(REACTIONS_ROOT)
  const reactions = doc.getMap<true>(REACTIONS_ROOT)
  const known = clocksOf(old)
  let written = 0
  // Removals first: they look for server entries that the rejected copy knew and removed,
  // which an entry added below never is.
  for (const [key, item] of reactions._map) {
    if (item.deleted || parseReactionKey(key)?.userId !== userId) continue
    if (!reaches(known, item.id) || before.has(key)) continue
    reactions.delete(key)
    written++
  }
  for (const [key, item] of before._map) {
    if (item.deleted || reaches(server, item.id)) continue
    const parsed = parseReactionKey(key)
    if (parsed?.userId !== userId || reactions.has(key)) continue
    if (!findMessageEntry(doc, parsed.messageId)) continue
    reactions.set(key, true)
    written++
  }
  return written
}
