import type * as Y from 'yjs'
import type { ChatMessage, ReadMarker, SystemEvent } from '../../../shared/chat-document.ts'
import {
  listMessages,
  listReactions,
  listSystemEvents,
  readMarkers,
} from '../../../shared/chat-document.ts'
import type { CloseReason } from '../../../shared/errors.ts'
import type { MessageId, UserId } from '../../../shared/ids.ts'

/** State of a message as shown to its author, or `other` for everyone else's messages. */
export type MessageState = 'pending' | 'sent' | 'failed' | 'other'

/** A message with its delivery state. */
export interface MessageView {
  message: ChatMessage
  state: MessageState
  /** Reason the server gave, for failed messages. */
  failure: CloseReason | undefined
}

/** Reason a conversation document is not syncing normally. */
export type SyncProblem =
  | { kind: 'lost_access'; reason: CloseReason }
  | { kind: 'rejected'; reason: CloseReason }
  | { kind: 'retrying'; reason: CloseReason | undefined }

/** Outcome of the last resynchronization after the server rejected a change from this device. */
export interface Resynchronization {
  reason: CloseReason
  /** Own unsent messages written again as new messages. */
  resent: number
  /** Own unsent messages that could not be written again. */
  lost: number
}

/** Reactions of every message: message id, then emoji, then the users who reacted. */
export type ReactionIndex = ReadonlyMap<MessageId, ReadonlyMap<string, readonly UserId[]>>

/** Render state of one conversation document. */
export interface ConversationSnapshot {
  /** True once the local IndexedDB copy has been loaded. */
  loaded: boolean
  /** True once the document has synced with the server since it was loaded. */
  synced: boolean
  messages: readonly MessageView[]
  reactions: ReactionIndex
  readMarkers: ReadonlyMap<UserId, ReadMarker>
  systemEvents: readonly SystemEvent[]
  problem: SyncProblem | null
  resynchronization: Resynchronization | null
  canSend: boolean
}

/** Session state that the snapshot combines with the document. */
export interface SnapshotInput {
  doc: Y.Doc
  userId: UserId
  loaded: boolean
  synced: boolean
  problem: SyncProblem | null
  resynchronization: Resynchronization | null
  isPending: (id: MessageId) => boolean
  failureOf: (id: MessageId) => CloseReason | undefined
}

/** Reads the document and the session state into a snapshot for rendering. */
export function buildSnapshot(input: SnapshotInput): ConversationSnapshot {
  const { doc, loaded, problem } = input
  const deleted = problem?.reason === 'conversation_deleted'
  const readable = loaded && !deleted
  const stopped = problem !== null && problem.kind !== 'retrying'

  return {
    loaded,
    synced: input.synced,
    messages: readable ? listMessages(doc).map((message) => viewOf(message, input)) : [],
    reactions: readable ? listReactions(doc) : new Map(),
    readMarkers: readable ? readMarkers(doc) : new Map(),
    systemEvents: readable ? listSystemEvents(doc) : [],
    problem,
    resynchronization: input.resynchronization,
    canSend: loaded && !stopped,
  }
}

function viewOf(message: ChatMessage, input: SnapshotInput): MessageView {
  if (message.authorId !== input.userId) return { message, state: 'other', failure: undefined }

  const failure = input.failureOf(message.id)
  if (failure) return { message, state: 'failed', failure }
  const state = input.isPending(message.id) ? 'pending' : 'sent'
  return { message, state, failure: undefined }
}
