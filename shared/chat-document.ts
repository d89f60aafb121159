import * as Y from 'yjs'
import type { MessageId, UserId } from './ids.ts'
import { newId } from './ids.ts'

/** Version of the chat document schema described in docs/protocol.md. */
export const SCHEMA_VERSION = 1

/** Name of the array root that holds the messages, in conversation order. */
export const MESSAGES_ROOT = 'messages'

/** Largest message text in bytes of UTF-8. */
export const MAX_MESSAGE_BYTES = 16 * 1024

/** A message read out of a conversation document. */
export interface ChatMessage {
  id: MessageId
  authorId: UserId
  text: string
  /** Milliseconds since the epoch on the author's device when it was written. */
  createdAt: number
}

/** Result of checking a message text before it is written. */
export type TextCheck = { ok: true } | { ok: false; code: 'empty' | 'too_large'; bytes: number }

const encoder = new TextEncoder()

/** Checks a message text against the schema: not blank, at most MAX_MESSAGE_BYTES. */
export function checkMessageText(text: string): TextCheck {
  const bytes = encoder.encode(text).length
  if (text.trim().length === 0) return { ok: false, code: 'empty', bytes }
  if (bytes > MAX_MESSAGE_BYTES) return { ok: false, code: 'too_large', bytes }
  return { ok: true }
}

/** Returns the messages array of a conversation document. */
export function messagesOf(doc: Y.Doc): Y.Array<Y.Map<unknown>> {
  return doc.getArray<Y.Map<unknown>>(MESSAGES_ROOT)
}

/**
 * Appends a message at the end of the conversation and returns it.
 * Inserting at the current length, not push, keeps the cost independent of the history size.
 */
export function sendMessage(
  doc: Y.Doc,
  input: { authorId: UserId; text: string; now?: number },
): ChatMessage {
  const check = checkMessageText(input.text)
  if (!check.ok) throw new RangeError(`message text is ${check.code} (${check.bytes} bytes)`)

  const message: ChatMessage = {
    id: newId() as MessageId,
    authorId: input.authorId,
    text: input.text,
    createdAt: input.now ?? Date.now(),
  }
  const entry = new Y.Map<unknown>()
  entry.set('id', message.id)
  entry.set('authorId', message.authorId)
  entry.set('text', message.text)
  entry.set('createdAt', message.createdAt)

  const messages = messagesOf(doc)
  doc.transact(() => messages.insert(messages.length, [entry]))
  return message
}

/** Reads one entry; returns undefined for an entry that does not follow the schema. */
export function readMessage(entry: unknown): ChatMessage | undefined {
  if (!(entry instanceof Y.Map)) return undefined
  const id: unknown = entry.get('id')
  const authorId: unknown = entry.get('authorId')
  const text: unknown = entry.get('text')
  const createdAt: unknown = entry.get('createdAt')
  if (typeof id !== 'string' || typeof authorId !== 'string') return undefined
  if (typeof text !== 'string' || typeof createdAt !== 'number') return undefined
  return { id: id as MessageId, authorId: authorId as UserId, text, createdAt }
}

/** Lists the messages of a conversation in conversation order, skipping malformed entries. */
export function listMessages(doc: Y.Doc): ChatMessage[] {
  const result: ChatMessage[] = []
  for (const entry of messagesOf(doc)) {
    const message = readMessage(entry)
    if (message) result.push(message)
  }
  return result
}

/** Returns the newest well-formed message, or undefined for an empty conversation. */
export function lastMessage(doc: Y.Doc): ChatMessage | undefined {
  const messages = messagesOf(doc)
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = readMessage(messages.get(index))
    if (message) return message
  }
  return undefined
}
