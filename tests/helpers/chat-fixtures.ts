import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import type { DocumentStore } from '../../sync-server/persistence/document-store.ts'

/** Returns a document update that appends one message per text, as one author. */
export function messagesUpdate(authorId: UserId, texts: string[]): Uint8Array {
  const doc = new Y.Doc()
  for (const text of texts) sendMessage(doc, { authorId, text })
  return Y.encodeStateAsUpdate(doc)
}

/** Returns the message texts of a document built from stored bytes, in conversation order. */
export function messageTexts(update: Uint8Array | undefined): string[] {
  const doc = new Y.Doc()
  if (update) Y.applyUpdate(doc, update)
  return listMessages(doc).map((message) => message.text)
}

/** Loads a document straight from the store and returns its message texts. */
export async function storedTexts(store: DocumentStore, name: string): Promise<string[]> {
  return messageTexts(await store.load(name))
}

/** Returns whether a document contains no item from any client. */
export function isEmptyDoc(doc: Y.Doc): boolean {
  return doc.store.clients.size === 0
}
