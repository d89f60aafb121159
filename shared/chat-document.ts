import * as Y from 'yjs'
import type { MessageId, UserId } from './ids.ts'
import { newId } from './ids.ts'

/** Version of the chat document schema described in docs/protocol.md. */
export const SCHEMA_VERSION = 3

/** Array root with the messages, in conversation order. Clients write it. */
export const MESSAGES_ROOT = 'messages'
/** Map root with one entry per reaction, keyed by reactionKey. Clients write it. */
export const REACTIONS_ROOT = 'reactions'
/** Map root with each member's read marker, keyed by user id. Clients write it. */
export const READS_ROOT = 'reads'
/** Array root with system events such as "added" and "renamed". Only the server writes it. */
export const SYSTEM_ROOT = 'system'
/** Map root with moderation placeholders, keyed by message id. Only the server writes it. */
export const MODERATION_ROOT = 'moderation'
/**
 * Map root of the live document with the history segments. Its key OPEN_SEGMENT_KEY
 * contains the number of the segment that takes new messages. Only the server writes it.
 */
export const SEGMENTS_ROOT = 'segments'
/** Key of SEGMENTS_ROOT with the number of the open segment. */
export const OPEN_SEGMENT_KEY = 'open'

/** Roots of the live document that clients may write; every other root is the server's alone. */
export const CLIENT_ROOTS = [MESSAGES_ROOT, REACTIONS_ROOT, READS_ROOT] as const
/** Roots of the live document that only the server writes. */
export const SERVER_ROOTS = [SYSTEM_ROOT, MODERATION_ROOT, SEGMENTS_ROOT] as const
/** Roots of a history segment document that clients may write. */
export const SEGMENT_CLIENT_ROOTS = [MESSAGES_ROOT, REACTIONS_ROOT] as const
/** Roots of a history segment document that only the server writes. */
export const SEGMENT_SERVER_ROOTS = [MODERATION_ROOT] as const

/**
 * Messages after which the server closes the open segment and opens the next one, unless
 * configured otherwise. Segment 0 is the live document's own messages root. Opening a
 * conversation loads the live document and the open segment whole, so this bounds what an
 * open decodes. Measured on 2 cores with the bench's open scenario, segments of 250 messages
 * opened in about half the time of segments of 1,000, and an older segment loaded in about a
 * third.
 */
export const DEFAULT_SEGMENT_MESSAGES = 250

/** Largest message text in bytes of UTF-8. */
export const MAX_MESSAGE_BYTES = 16 * 1024
/** Largest reaction, in UTF-16 code units: one emoji with modifiers and joiners fits. */
export const MAX_REACTION_LENGTH = 32
/** Most users one message may mention. */
export const MAX_MENTIONS = 50

/** Keys of a message map, with the author allowed to change only the editable ones. */
export const MESSAGE_KEYS = {
  id: 'string',
  authorId: 'string',
  text: 'string',
  createdAt: 'number',
  replyTo: 'string',
  mentions: 'string[]',
  editedAt: 'number',
  deleted: 'true',
} as const

export type MessageKey = keyof typeof MESSAGE_KEYS

/** Keys set once, when the message is created. */
export const IMMUTABLE_MESSAGE_KEYS: readonly MessageKey[] = [
  'id',
  'authorId',
  'createdAt',
  'replyTo',
]

/** A message read out of a conversation document. */
export interface ChatMessage {
  id: MessageId
  authorId: UserId
  /** The text; empty once the message is deleted or removed by a moderator. */
  text: string
  /** Milliseconds since the epoch on the author's device when it was written. */
  createdAt: number
  replyTo?: MessageId
  mentions: UserId[]
  editedAt?: number
  /** Deleted by its author. */
  deleted: boolean
  /** Removed by a group admin through the server. */
  moderated?: { by: UserId; at: number }
}

/** A system event written by the server, shown in the timeline after `afterMessageId`. */
export interface SystemEvent {
  id: string
  type: 'created' | 'member_added' | 'member_removed' | 'member_left' | 'renamed' | 'role_changed'
  actorId: UserId
  targetId?: UserId
  title?: string
  role?: 'admin' | 'member'
  /** Server time in milliseconds since the epoch. */
  at: number
  /** Newest message when the event happened, or null when there was none. */
  afterMessageId: MessageId | null
}

/** A member's read marker: the newest message they have seen. */
export interface ReadMarker {
  messageId: MessageId
  at: number
}

/** Result of checking a message text before it is written. */
export type TextCheck = { ok: true } | { ok: false; code: 'empty' | 'too_large'; bytes: number }

const encoder = new TextEncoder()

/** Returns the size of a text in bytes of UTF-8. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length
}

/** Checks a message text against the schema: not blank, at most MAX_MESSAGE_BYTES. */
export function checkMessageText(text: string): TextCheck {
  const bytes = utf8Length(text)
  if (text.trim().length === 0) return { ok: false, code: 'empty', bytes }
  if (bytes > MAX_MESSAGE_BYTES) return { ok: false, code: 'too_large', bytes }
  return { ok: true }
}

/** Returns the messages array of a conversation document. */
export function messagesOf(doc: Y.Doc): Y.Array<Y.Map<unknown>> {
  return doc.getArray<Y.Map<unknown>>(MESSAGES_ROOT)
}

/**
 * Returns the number of the segment that takes new messages, from a conversation's live
 * document: 0 (the live document itself) until the server first closes a segment.
 */
export function openSegment(liveDoc: Y.Doc): number {
  const value: unknown = liveDoc.getMap(SEGMENTS_ROOT).get(OPEN_SEGMENT_KEY)
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0
}

/** Returns the key of one user's reaction to one message. */
export function reactionKey(messageId: string, userId: string, emoji: string): string {
  return `${messageId}:${userId}:${emoji}`
}

/** Splits a reaction key; returns undefined for a key outside the schema. */
export function parseReactionKey(
  key: string,
): { messageId: MessageId; userId: UserId; emoji: string } | undefined {
  const first = key.indexOf(':')
  const second = first < 0 ? -1 : key.indexOf(':', first + 1)
  if (first <= 0 || second <= first + 1) return undefined
  const emoji = key.slice(second + 1)
  if (emoji.length === 0 || emoji.length > MAX_REACTION_LENGTH) return undefined
  return {
    messageId: key.slice(0, first) as MessageId,
    userId: key.slice(first + 1, second) as UserId,
    emoji,
  }
}

/** Returns the user names after `@` in a text, lower-cased, without duplicates. */
export function mentionedNames(text: string): string[] {
  const names = new Set<string>()
  for (const match of text.matchAll(/(^|[^\w.@-])@([a-z0-9_.-]{3,32})/gi)) {
    const name = match[2]?.replace(/\.+$/, '')
    if (name && name.length >= 3) names.add(name.toLowerCase())
  }
  return [...names]
}

/**
 * Appends a message at the end of the conversation and returns it.
 * Inserting at the current length, not push, keeps the cost independent of the history size.
 */
export function sendMessage(
  doc: Y.Doc,
  input: {
    authorId: UserId
    text: string
    now?: number
    replyTo?: MessageId
    mentions?: UserId[]
  },
): ChatMessage {
  const check = checkMessageText(input.text)
  if (!check.ok) throw new RangeError(`message text is ${check.code} (${check.bytes} bytes)`)

  const message: ChatMessage = {
    id: newId() as MessageId,
    authorId: input.authorId,
    text: input.text,
    createdAt: input.now ?? Date.now(),
    replyTo: input.replyTo,
    mentions: [...new Set(input.mentions ?? [])].slice(0, MAX_MENTIONS),
    deleted: false,
  }
  const entry = new Y.Map<unknown>()
  entry.set('id', message.id)
  entry.set('authorId', message.authorId)
  entry.set('text', message.text)
  entry.set('createdAt', message.createdAt)
  if (message.replyTo) entry.set('replyTo', message.replyTo)
  if (message.mentions.length > 0) entry.set('mentions', message.mentions)

  const messages = messagesOf(doc)
  doc.transact(() => messages.insert(messages.length, [entry]))
  return message
}

/** Finds the map of a message by id, searching from the newest. */
export function findMessageEntry(doc: Y.Doc, messageId: string): Y.Map<unknown> | undefined {
  const messages = messagesOf(doc)
  for (let index = messages.length - 1; index >= 0; index--) {
    const entry = messages.get(index)
    if (entry instanceof Y.Map && entry.get('id') === messageId) return entry
  }
  return undefined
}

/** Outcome of a change to a message that the schema may not allow. */
export type ChangeResult =
  { ok: true } | { ok: false; reason: 'not_found' | 'not_author' | 'deleted' | 'invalid_text' }

/** Replaces the text of one of the user's own messages and marks it edited. */
export function editMessage(
  doc: Y.Doc,
  input: { messageId: string; userId: UserId; text: string; mentions?: UserId[]; now?: number },
): ChangeResult {
  const entry = findMessageEntry(doc, input.messageId)
  const message = entry && readMessage(entry, doc)
  if (!entry || !message) return { ok: false, reason: 'not_found' }
  if (message.authorId !== input.userId) return { ok: false, reason: 'not_author' }
  if (message.deleted || message.moderated) return { ok: false, reason: 'deleted' }
  if (!checkMessageText(input.text).ok) return { ok: false, reason: 'invalid_text' }

  doc.transact(() => {
    entry.set('text', input.text)
    entry.set('editedAt', input.now ?? Date.now())
    const mentions = [...new Set(input.mentions ?? [])].slice(0, MAX_MENTIONS)
    if (mentions.length > 0) entry.set('mentions', mentions)
    else if (entry.has('mentions')) entry.delete('mentions')
  })
  return { ok: true }
}

/** Deletes one of the user's own messages: the text leaves the document, a placeholder stays. */
export function deleteMessage(
  doc: Y.Doc,
  input: { messageId: string; userId: UserId },
): ChangeResult {
  const entry = findMessageEntry(doc, input.messageId)
  const message = entry && readMessage(entry, doc)
  if (!entry || !message) return { ok: false, reason: 'not_found' }
  if (message.authorId !== input.userId) return { ok: false, reason: 'not_author' }
  if (message.deleted) return { ok: true }

  doc.transact(() => {
    entry.set('text', '')
    entry.set('deleted', true)
    if (entry.has('mentions')) entry.delete('mentions')
  })
  return { ok: true }
}

/** Adds the user's reaction with an emoji to a message, or removes it when present. */
export function toggleReaction(
  doc: Y.Doc,
  input: { messageId: string; userId: UserId; emoji: string },
): boolean {
  const key = reactionKey(input.messageId, input.userId, input.emoji)
  if (!parseReactionKey(key)) throw new RangeError(`invalid reaction "${input.emoji}"`)
  const reactions = doc.getMap<true>(REACTIONS_ROOT)
  if (reactions.has(key)) {
    reactions.delete(key)
    return false
  }
  reactions.set(key, true)
  return true
}

/** Lists the reactions of every message: message id, then emoji, then the users, in key order. */
export function listReactions(doc: Y.Doc): Map<MessageId, Map<string, UserId[]>> {
  const result = new Map<MessageId, Map<string, UserId[]>>()
  const keys = [...doc.getMap(REACTIONS_ROOT).keys()].sort()
  for (const key of keys) {
    const parsed = parseReactionKey(key)
    if (!parsed) continue
    const byEmoji = result.get(parsed.messageId) ?? new Map<string, UserId[]>()
    byEmoji.set(parsed.emoji, [...(byEmoji.get(parsed.emoji) ?? []), parsed.userId])
    result.set(parsed.messageId, byEmoji)
  }
  return result
}

/** Moves the user's read marker to a message. */
export function setReadMarker(
  doc: Y.Doc,
  input: { userId: UserId; messageId: MessageId; now?: number },
): void {
  const marker: ReadMarker = { messageId: input.messageId, at: input.now ?? Date.now() }
  doc.getMap(READS_ROOT).set(input.userId, marker)
}

/** Returns every member's read marker that follows the schema. */
export function readMarkers(doc: Y.Doc): Map<UserId, ReadMarker> {
  const result = new Map<UserId, ReadMarker>()
  for (const [userId, value] of doc.getMap(READS_ROOT).entries()) {
    if (isReadMarker(value)) result.set(userId as UserId, value)
  }
  return result
}

/** Checks a value against the read marker shape. */
export function isReadMarker(value: unknown): value is ReadMarker {
  if (typeof value !== 'object' || value === null) return false
  const marker = value as Record<string, unknown>
  return typeof marker.messageId === 'string' && typeof marker.at === 'number'
}

/** Reads one entry; returns undefined for an entry that does not follow the schema. */
export function readMessage(entry: unknown, doc?: Y.Doc): ChatMessage | undefined {
  if (!(entry instanceof Y.Map)) return undefined
  const id: unknown = entry.get('id')
  const authorId: unknown = entry.get('authorId')
  const text: unknown = entry.get('text')
  const createdAt: unknown = entry.get('createdAt')
  if (typeof id !== 'string' || typeof authorId !== 'string') return undefined
  if (typeof text !== 'string' || typeof createdAt !== 'number') return undefined

  const replyTo: unknown = entry.get('replyTo')
  const mentions: unknown = entry.get('mentions')
  const editedAt: unknown = entry.get('editedAt')
  const moderated = (doc ?? entry.doc)?.getMap(MODERATION_ROOT).get(id) as
    { by?: unknown; at?: unknown } | undefined
  return {
    id: id as MessageId,
    authorId: authorId as UserId,
    text: moderated ? '' : text,
    createdAt,
    replyTo: typeof replyTo === 'string' ? (replyTo as MessageId) : undefined,
    mentions: Array.isArray(mentions)
      ? (mentions.filter((value) => typeof value === 'string') as UserId[])
      : [],
    editedAt: typeof editedAt === 'number' ? editedAt : undefined,
    deleted: entry.get('deleted') === true,
    moderated:
      moderated && typeof moderated.by === 'string' && typeof moderated.at === 'number'
        ? { by: moderated.by as UserId, at: moderated.at }
        : undefined,
  }
}

/** Lists the messages of a conversation in conversation order, skipping malformed entries. */
export function listMessages(doc: Y.Doc): ChatMessage[] {
  const result: ChatMessage[] = []
  for (const entry of messagesOf(doc)) {
    const message = readMessage(entry, doc)
    if (message) result.push(message)
  }
  return result
}

/** Returns the newest well-formed message, or undefined for an empty conversation. */
export function lastMessage(doc: Y.Doc): ChatMessage | undefined {
  const messages = messagesOf(doc)
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = readMessage(messages.get(index), doc)
    if (message) return message
  }
  return undefined
}

/** Lists the system events, in the order the server wrote them. */
export function listSystemEvents(doc: Y.Doc): SystemEvent[] {
  return doc
    .getArray<unknown>(SYSTEM_ROOT)
    .toArray()
    .filter((value): value is SystemEvent => {
      if (typeof value !== 'object' || value === null) return false
      const event = value as Record<string, unknown>
      return typeof event.id === 'string' && typeof event.type === 'string'
    })
}
