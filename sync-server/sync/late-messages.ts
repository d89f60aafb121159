import { type Hocuspocus, MessageType } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'

/** The Hocuspocus client of one socket, which the package does not export by name. */
export type SocketClient = ReturnType<Hocuspocus['handleConnection']>

/** The parts of a Hocuspocus 4.7 ClientConnection that tell which documents a socket has. */
interface DocumentRouting {
  documentConnections: Record<string, unknown>
  incomingMessageQueue: Record<string, unknown>
}

function routingOf(client: SocketClient): DocumentRouting | undefined {
  const routing = client as unknown as Partial<DocumentRouting>
  if (typeof routing.documentConnections !== 'object') return undefined
  if (typeof routing.incomingMessageQueue !== 'object') return undefined
  return routing as DocumentRouting
}

/**
 * Returns whether a message is for a document that the socket has neither open nor being
 * opened, and is not the Auth message that opens it. A provider sends such a message when
 * the server has closed its document, such as after a rejected update, before it learns of
 * the close. Hocuspocus 4.7 would queue it and replay it on the socket's next connection to
 * the document, where it counts as the new connection's: a replayed rejected update closes
 * that connection too. Returns false for a message that cannot be decoded, which Hocuspocus
 * then handles as before, and when the ClientConnection lacks the fields read here.
 */
export function isForClosedDocument(client: SocketClient, data: Uint8Array): boolean {
  const routing = routingOf(client)
  if (!routing) return false
  let address: string
  let type: number
  try {
    const decoder = decoding.createDecoder(data)
    address = decoding.readVarString(decoder)
    type = decoding.readVarUint(decoder)
  } catch {
    return false
  }
  if (type === (MessageType.Auth as number)) return false
  // Hocuspocus routes a message by its whole address first, then by the document name
  // before the session separator.
  const documentName = address.split('\0', 1)[0] ?? address
  return (
    routing.documentConnections[address] === undefined &&
    routing.documentConnections[documentName] === undefined &&
    routing.incomingMessageQueue[address] === undefined
  )
}

/** Returns whether Hocuspocus's ClientConnection still has the fields read above. */
export function canFindClosedDocuments(client: SocketClient): boolean {
  return routingOf(client) !== undefined
}
