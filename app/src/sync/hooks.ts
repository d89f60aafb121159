import { useEffect, useSyncExternalStore } from 'react'
import type { ConversationId } from '../../../shared/ids.ts'
import type { ConnectionState } from './connection-monitor.ts'
import type { ConversationSession, ConversationSnapshot } from './conversation-session.ts'
import { useSyncClient } from './sync-context.tsx'

/** Returns the connection state of the shared sync socket. */
export function useConnectionState(): ConnectionState {
  const { connection } = useSyncClient()
  return useSyncExternalStore(connection.subscribe, connection.getSnapshot)
}

/**
 * Opens a conversation document while the component is mounted and returns its session.
 * `openSegment`, from the conversation list, lets a device without a local copy open the
 * newest history segment without waiting for the live document. `member` is true while the
 * server reports the user as a member, which lets a session that lost access sync again.
 */
export function useConversationSession(
  conversationId: ConversationId,
  openSegment?: number,
  member = false,
): ConversationSession {
  const client = useSyncClient()
  // session() only gets or creates the session, so calling it during render is idempotent.
  const session = client.session(conversationId)
  useEffect(() => client.retain(conversationId), [client, conversationId])
  useEffect(() => {
    if (openSegment !== undefined) session.learnOpenSegment(openSegment)
  }, [session, openSegment])
  useEffect(() => {
    if (member) session.regainAccess()
  }, [session, member])
  return session
}

/** Returns the messages and sync state of an open conversation document. */
export function useConversationSnapshot(session: ConversationSession): ConversationSnapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot)
}
