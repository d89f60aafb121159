import type { Connection, Document } from '@hocuspocus/server'
import type { CloseReason } from '../../shared/errors.ts'
import type { SyncContext } from './sync-engine.ts'

/** Who opened a document connection. */
export interface ConnectionOwner {
  userId: string
  sessionId: string
  documentName: string
}

/** WebSocket close codes of the reasons, in the 4000 range left to applications. */
const CLOSE_CODES: Record<CloseReason, number> = {
  not_authenticated: 4401,
  forbidden: 4403,
  conversation_deleted: 4410,
  invalid_update: 4422,
  client_id_taken: 4409,
  too_large: 4413,
  rate_limited: 4429,
  server_restarting: 4503,
}

/**
 * Closes this instance's document connections by owner. It reads them from the loaded
 * Hocuspocus documents rather than keeping its own map, so that a connection costs it
 * nothing. A connection is in its document from the moment Hocuspocus creates it, before
 * the `connected` hook runs, until it closes.
 */
export class ConnectionRegistry {
  constructor(private readonly documents: () => Iterable<Document>) {}

  /** Number of open document connections, so a socket with two documents open counts twice. */
  get size(): number {
    let count = 0
    for (const document of this.documents()) count += document.connections.size
    return count
  }

  /** Closes the connections whose owner matches, sending the reason; returns how many. */
  closeWhere(matches: (owner: ConnectionOwner) => boolean, reason: CloseReason): number {
    const closing: Connection[] = []
    for (const document of this.documents()) {
      for (const connection of document.getConnections()) {
        const owner = ownerOf(connection)
        if (owner && matches(owner)) closing.push(connection)
      }
    }
    for (const connection of closing) this.close(connection, reason)
    return closing.length
  }

  /** Closes one connection, sending the reason. */
  close(connection: Connection, reason: CloseReason): void {
    connection.close({ code: CLOSE_CODES[reason], reason })
  }
}

/** Returns the owner of an authenticated connection, or undefined for any other. */
function ownerOf(connection: Connection): ConnectionOwner | undefined {
  const { userId, sessionId } = connection.context as SyncContext
  if (!userId || !sessionId) return undefined
  return { userId, sessionId, documentName: connection.document.name }
}
