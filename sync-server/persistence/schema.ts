import type { ColumnType, Generated } from 'kysely'

/** Tables of the Parley database, typed for kysely. */
export interface Database {
  users: UsersTable
  sessions: SessionsTable
  conversations: ConversationsTable
  members: MembersTable
  documents: DocumentsTable
  document_updates: DocumentUpdatesTable
  message_batches: MessageBatchesTable
  client_ids: ClientIdsTable
}

type CreatedAt = ColumnType<Date, Date | undefined, never>

export interface UsersTable {
  id: string
  username: string
  /** Lower-case username; the unique index on it makes names unique regardless of case. */
  username_key: string
  display_name: string
  password_hash: string
  created_at: CreatedAt
}

export interface SessionsTable {
  /** Hex SHA-256 of the session token; the token itself is never stored. */
  id: string
  user_id: string
  kind: 'cookie' | 'token'
  expires_at: Date
  created_at: CreatedAt
}

export interface ConversationsTable {
  id: string
  kind: 'direct' | 'group'
  title: string | null
  /** Sorted member ids of a direct chat; unique, so concurrent creations meet on one row. */
  direct_key: string | null
  created_at: CreatedAt
  last_activity_at: Date
  last_message_author: string | null
  last_message_text: string | null
  last_message_at: Date | null
  deleted_at: Date | null
  /** Number of the history segment that takes new messages, 0 for the live document. */
  open_segment: ColumnType<number, number | undefined, number>
}

export interface MembersTable {
  conversation_id: string
  user_id: string
  role: 'admin' | 'member'
  joined_at: CreatedAt
  /** A direct chat that this member left; it shows again on new activity. */
  hidden: boolean
  /**
   * Highest message position up to this member's read marker (see MessageIndex); 0 before
   * any. Named before positions replaced the seq of a row per message.
   */
  read_seq: ColumnType<number, number | undefined, number>
}

export interface DocumentsTable {
  name: string
  /** Merge of every update that compaction has removed from document_updates. */
  snapshot: Uint8Array | null
  updated_at: Date
}

export interface DocumentUpdatesTable {
  seq: Generated<number>
  name: string
  /** The update, packed with the method that `codec` names (update-codec.ts). */
  data: Uint8Array
  codec: Generated<number>
}

export interface ClientIdsTable {
  document_name: string
  /** Yjs client id; a user id, or 'server' for the server's own writes. */
  client_id: number
  user_id: string
  created_at: CreatedAt
}

/**
 * Messages of one segment of a conversation that one index write added, in parallel arrays
 * in the order they were indexed.
 */
export interface MessageBatchesTable {
  conversation_id: string
  /** Order of indexing; increases across all conversations. */
  seq: Generated<number>
  /** History segment whose document contains the messages, 0 for the live document. */
  segment: number
  message_ids: string[]
  author_ids: string[]
  /** Ids of the users each message mentions, joined by spaces, or NULL for none. */
  mentions: (string | null)[]
  /** Whether each message was deleted by its author or removed by a moderator. */
  deleted: boolean[]
}
