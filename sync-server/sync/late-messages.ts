import { type Connection, type Hocuspocus, MessageType } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'

/** The Hocuspocus client of one socket, which the package does not export by name. */
export type SocketClient = ReturnType<Hocuspocus['handleConnection']>

/** Maximum number of messages deferred for one document while its previous connection closes. */
const MAX_DEFERRED_MESSAGES = 256

/** The parts of a Hocuspocus 4.7 ClientConnection that tell which documents a socket has. */
interface DocumentRouting {
  documentConnections: Record<string, Connection | undefined>
  incomingMessageQueue: Record<string, unknown>
}

function routingOf(client: SocketClient): DocumentRouting | undefined {
  const routing = client as unknown as Partial<DocumentRouting>
  if (typeof routing.documentConnections !== 'object') return undefined
  if (typeof routing.incomingMessageQueue !== 'object') return undefined
  return routing as DocumentRouting
}

/** Outcome of a message at the gate. */
export type GateOutcome = 'passed' | 'dropped' | 'deferred'

/**
 * Stands between a socket and its Hocuspocus client, and fixes two ways in which Hocuspocus
 * 4.7 gives a document's messages to the wrong connection:
 *
 * - A message for a document that the socket has neither open nor being opened, other than
 *   the Auth message that opens it, is dropped. A provider sends such a message when the
 *   server has closed its document, such as after a rejected update, before it learns of the
 *   close. Hocuspocus would queue it and replay it on the socket's next connection to the
 *   document, where a replayed rejected update closes that connection too.
 * - Messages that follow the client's Close of a document are deferred until that connection
 *   has closed. A connection handles its messages one at a time, and an update waits for its
 *   commit. A provider created again at once therefore sent its Auth to the closing
 *   connection, which took it for a token refresh and sent no reply.
 *
 * A message that cannot be decoded passes, and Hocuspocus handles it as before.
 */
export class DocumentMessageGate {
  private readonly routing: DocumentRouting | undefined
  /** Documents whose Close the client sent while their connection was open. */
  private readonly closing = new Set<string>()
  /** Messages deferred for a closing document, in arrival order, by address. */
  private readonly deferred = new Map<string, Uint8Array[]>()

  constructor(private readonly client: SocketClient) {
    this.routing = routingOf(client)
  }

  /** True when the ClientConnection has the fields the gate reads, so that it checks messages. */
  get checking(): boolean {
    return this.routing !== undefined
  }

  /** Passes a message to the client, drops it or defers it; returns the outcome. */
  receive(data: Uint8Array): GateOutcome {
    const header = this.routing && readHeader(data)
    if (!this.routing || !header) {
      this.client.handleMessage(data)
      return 'passed'
    }
    const { address, type } = header
    const deferred = this.deferred.get(address)
    if (deferred) {
      if (deferred.length >= MAX_DEFERRED_MESSAGES) return 'dropped'
      deferred.push(data)
      return 'deferred'
    }

    const connection = this.connectionOf(address)
    if (!connection) {
      if (type !== (MessageType.Auth as number) && !this.routing.incomingMessageQueue[address]) {
        return 'dropped'
      }
    } else if (type === (MessageType.CLOSE as number) && !this.closing.has(address)) {
      this.closing.add(address)
      connection.onClose(() => this.closed(address))
    } else if (this.closing.has(address)) {
      this.deferred.set(address, [data])
      return 'deferred'
    }
    this.client.handleMessage(data)
    return 'passed'
  }

  // Called from inside Connection.close, after Hocuspocus has forgotten the connection. The
  // deferred messages go on in a later microtask, as if they had arrived then.
  private closed(address: string): void {
    this.closing.delete(address)
    queueMicrotask(() => {
      const deferred = this.deferred.get(address) ?? []
      this.deferred.delete(address)
      for (const data of deferred) this.receive(data)
    })
  }

  // Hocuspocus routes a message by its whole address first, then by the document name
  // before the session separator.
  private connectionOf(address: string): Connection | undefined {
    const connections = this.routing?.documentConnections
    if (!connections) return undefined
    return connections[address] ?? connections[address.split('\0', 1)[0] ?? address]
  }
}

function readHeader(data: Uint8Array): { address: string; type: number } | undefined {
  try {
    const decoder = decoding.createDecoder(data)
    const address = decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    return { address, type }
  } catch {
    return undefined
  }
}
