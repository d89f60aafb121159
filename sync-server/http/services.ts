import type { Kysely } from 'kysely'
import type { ConversationId, UserId } from '../../shared/ids.ts'
import type { SessionStore } from '../auth/sessions.ts'
import type { Config } from '../config.ts'
import type { Logger } from '../observability/logger.ts'
import type { Metrics } from '../observability/metrics.ts'
import type { ConversationStore } from '../persistence/conversations.ts'
import type { DocumentStore } from '../persistence/document-store.ts'
import type { Database } from '../persistence/schema.ts'
import type { UserStore } from '../persistence/users.ts'
import type { ChatExtension } from '../sync/chat-extension.ts'

/** Closes sync connections on this instance and, through Redis, on every other instance. */
export interface SyncControl {
  /** Closes every connection opened with a session, after logout. */
  closeSession(sessionId: string): Promise<void>
  /** Closes one user's connections to a conversation's documents, after removal. */
  closeMember(conversationId: ConversationId, userId: UserId): Promise<void>
  /** Closes every connection to a conversation's documents, after deletion. */
  closeConversation(conversationId: ConversationId): Promise<void>
}

/** What the HTTP routes and the sync hooks share. */
export interface Services {
  config: Config
  db: Kysely<Database>
  databaseKind: 'postgres' | 'pglite'
  users: UserStore
  sessions: SessionStore
  conversations: ConversationStore
  documents: DocumentStore
  logger: Logger
  metrics: Metrics
  sync: SyncControl
  /** Server writes to conversation documents and conversation list notifications. */
  chat: Pick<ChatExtension, 'writes' | 'notifier' | 'indexPending'>
  /** Returns whether every dependency responds, for /readyz. */
  checkReady(): Promise<boolean>
}
