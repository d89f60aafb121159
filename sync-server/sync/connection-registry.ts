import type { Connection } from '@hocuspocus/server'
import type { CloseReason } from '../../shared/errors.ts'

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

/** Open document connections of this instance, so that they can be closed by owner. */
export class ConnectionRegistry {
  private readonly owners = new Map<Connection, ConnectionOwner>()

  add(connection: Connection, owner: ConnectionOwner): void {
    this.owners.set(connection, owner)
    connection.onClose(() => this.owners.delete(connection))
  }

  get size(): number {
    return this.owners.size
  }

  /** Closes the connections whose owner matches, sending the reason; returns how many. */
  closeWhere(matches: (owner: ConnectionOwner) => boolean, reason: CloseReason): number {
    let closed = 0
    for (const [connection, owner] of [...this.owners]) {
      if (!matches(owner)) continue
      this.owners.delete(connection)
      connection.close({ code: CLOSE_CODES[reason], reason })
      closed++
    }
    return closed
  }
}
