import type { ConversationId, UserId } from './ids.ts'

/** Target of a document name: a conversation's live document or segment, or a user's own. */
export type DocumentTarget =
  | { kind: 'conversation'; conversationId: ConversationId }
  | { kind: 'segment'; conversationId: ConversationId; segment: number }
  | { kind: 'user'; userId: UserId }

/** Returns the name of a conversation's live document. */
export function conversationDocumentName(id: ConversationId): string {
  return `conv:${id}`
}

/**
 * Returns the name of the document that contains one segment of a conversation's messages.
 * Segment 0 is the live document, and segment n from 1 on is history segment document n.
 */
export function segmentDocumentName(id: ConversationId, segment: number): string {
  if (!Number.isSafeInteger(segment) || segment < 0) {
    throw new RangeError(`invalid segment number ${segment}`)
  }
  return segment === 0 ? conversationDocumentName(id) : `conv:${id}:seg:${segment}`
}

/** Returns the name of a user's private document. */
export function userDocumentName(id: UserId): string {
  return `user:${id}`
}

const CONVERSATION = /^conv:([a-z0-9-]{8,64})$/
// Segment 0 is the live document, so its only name is conv:<id>.
const SEGMENT = /^conv:([a-z0-9-]{8,64}):seg:([1-9][0-9]{0,8})$/
const USER = /^user:([a-z0-9-]{8,64})$/

/** Parses a document name; returns undefined for names outside the scheme. */
export function parseDocumentName(name: string): DocumentTarget | undefined {
  const conversation = CONVERSATION.exec(name)
  if (conversation) {
    return { kind: 'conversation', conversationId: conversation[1] as ConversationId }
  }
  const segment = SEGMENT.exec(name)
  if (segment) {
    return {
      kind: 'segment',
      conversationId: segment[1] as ConversationId,
      segment: Number(segment[2]),
    }
  }
  const user = USER.exec(name)
  if (user) return { kind: 'user', userId: user[1] as UserId }
  return undefined
}

/** Returns the IndexedDB database name of a document for a signed-in user. */
export function localDatabaseName(userId: UserId, documentName: string): string {
  return `parley:${userId}:${documentName}`
}
