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
  /** History segment that contains the message (0: the live document). */
  segment: number
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
  /** Own unsent edits, deletions and reactions written again. */
  rewritten: number
}

/** Reactions of every message: message id, then emoji, then the users who reacted. */
export type ReactionIndex = ReadonlyMap<MessageId, ReadonlyMap<string, readonly UserId[]>>

/** Range of history segments a conversation shows, and what of it is loading. */
export interface HistoryView {
  /** Oldest segment shown; 0, the live document, is the start of the conversation. */
  firstSegment: number
  /** Segment that takes new messages. */
  openSegment: number
  /** The newest page is loaded, so that scrolling back may load older segments. */
  ready: boolean
  /** An older segment is being loaded. */
  loadingOlder: boolean
  /** Older segments are being loaded to find the original of a reply. */
  searching: boolean
}

/** Render state of one conversation: its live document and the segments shown. */
export interface ConversationSnapshot {
  /** True once the local IndexedDB copies of the live document and open segment are loaded. */
  loaded: boolean
  /** True once the live document and open segment have synced with the server. */
  synced: boolean
  /** Messages of the segments shown, in conversation order. */
  messages: readonly MessageView[]
  reactions: ReactionIndex
  readMarkers: ReadonlyMap<UserId, ReadMarker>
  systemEvents: readonly SystemEvent[]
  history: HistoryView
  problem: SyncProblem | null
  resynchronization: Resynchronization | null
  /** A write to this device's storage failed because its quota is used up. */
  storageFull: boolean
  canSend: boolean
  /** Originals of replies that no segment shown contains, as fetched from the server. */
  quotes: ReadonlyMap<MessageId, ChatMessage>
}

/** Messages and reactions of one document, read for rendering. */
export interface SegmentContent {
  messages: readonly MessageView[]
  reactions: ReactionIndex
}

/** A document and the state that the delivery state of its messages depends on. */
export interface SegmentSource {
  doc: Y.Doc
  segment: number
  userId: UserId
  /** False until the local copy has loaded, and once the conversation is deleted. */
  readable: boolean
  isPending: (id: MessageId) => boolean
  failureOf: (id: MessageId) => CloseReason | undefined
}

/** Reads the messages and reactions of one document. */
export function readSegmentContent(source: SegmentSource): SegmentContent {
  if (!source.readable) return { messages: [], reactions: new Map() }
  return {
    messages: listMessages(source.doc).map((message) => viewOf(message, source)),
    reactions: listReactions(source.doc),
  }
}

/** Conversation state that the snapshot combines with the documents. */
export interface SnapshotInput {
  liveDoc: Y.Doc
  /** Contents of the segments shown, oldest first. */
  segments: readonly SegmentContent[]
  loaded: boolean
  synced: boolean
  history: HistoryView
  problem: SyncProblem | null
  resynchronization: Resynchronization | null
  storageFull: boolean
  canSend: boolean
  quotes: ReadonlyMap<MessageId, ChatMessage>
}

/** Combines the documents of a conversation and its session state into a snapshot. */
export function buildSnapshot(input: SnapshotInput): ConversationSnapshot {
  const { liveDoc, loaded, problem } = input
  const readable = loaded && problem?.reason !== 'conversation_deleted'

  return {
    loaded,
    synced: input.synced,
    messages: input.segments.flatMap((content) => content.messages),
    reactions: mergeReactions(input.segments),
    readMarkers: readable ? readMarkers(liveDoc) : new Map(),
    systemEvents: readable ? listSystemEvents(liveDoc) : [],
    history: input.history,
    problem,
    resynchronization: input.resynchronization,
    storageFull: input.storageFull,
    canSend: input.canSend,
    quotes: input.quotes,
  }
}

// Reactions sit in the document of their message, so the indexes of segments share no key.
function mergeReactions(segments: readonly SegmentContent[]): ReactionIndex {
  if (segments.length === 1) return segments[0]?.reactions ?? new Map()
  const merged = new Map<MessageId, ReadonlyMap<string, readonly UserId[]>>()
  for (const content of segments) {
    for (const [messageId, byEmoji] of content.reactions) merged.set(messageId, byEmoji)
  }
  return merged
}

function viewOf(message: ChatMessage, source: SegmentSource): MessageView {
  const { segment } = source
  if (message.authorId !== source.userId) {
    return { message, state: 'other', failure: undefined, segment }
  }

  const failure = source.failureOf(message.id)
  if (failure) return { message, state: 'failed', failure, segment }
  const state = source.isPending(message.id) ? 'pending' : 'sent'
  return { message, state, failure: undefined, segment }
}
