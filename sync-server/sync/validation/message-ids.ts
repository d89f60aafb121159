import * as Y from 'yjs'
import { messagesOf } from '../../../shared/chat-document.ts'
import { insertedMaps } from '../inserted-maps.ts'

/** Ids of the messages of each document checked so far, kept up to date after each change. */
const idsByDocument = new WeakMap<Y.Doc, Set<string>>()

/**
 * Returns whether a document has a message with this id. The ids are read from the whole
 * document once, at the first call, and then from the messages each transaction inserts,
 * so a check costs the same for 10 or 100,000 messages. Messages are never removed from the
 * array, only marked deleted, so the set only grows.
 */
export function hasMessageId(doc: Y.Doc, messageId: string): boolean {
  return messageIdsOf(doc).has(messageId)
}

function messageIdsOf(doc: Y.Doc): Set<string> {
  const known = idsByDocument.get(doc)
  if (known) return known
  const ids = new Set<string>()
  const messages = messagesOf(doc)
  for (const entry of messages) addId(ids, entry)
  doc.on('afterTransaction', (transaction: Y.Transaction) => {
    // Only a transaction that inserted into the array lists it as changed.
    if (!transaction.changed.has(messages)) return
    for (const entry of insertedMaps(transaction, messages)) addId(ids, entry)
  })
  idsByDocument.set(doc, ids)
  return ids
}

function addId(ids: Set<string>, entry: unknown): void {
  if (!(entry instanceof Y.Map)) return
  const id: unknown = entry.get('id')
  if (typeof id === 'string') ids.add(id)
}
