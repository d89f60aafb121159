import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'

/**
 * Message types of the Hocuspocus protocol, as numbered by MessageType in
 * @hocuspocus/server 4.7 (dist/hocuspocus-server.esm.js).
 */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  SyncReply: 4,
  Stateless: 5,
  Close: 7,
  SyncStatus: 8,
} as const

/** Sub-types of an Auth message, as numbered by AuthMessageType in @hocuspocus/common 4.8. */
const AuthType = { Token: 0, PermissionDenied: 1, Authenticated: 2 } as const

/** Sub-types of a Sync message, from y-protocols/sync. */
export const SyncStep = { Step1: 0, Step2: 1, Update: 2 } as const
export type SyncStepType = (typeof SyncStep)[keyof typeof SyncStep]

/** A message the server sent for the client's document, decoded. */
export type ServerMessage =
  | { type: 'authenticated'; scope: string }
  | { type: 'permission_denied'; reason: string }
  | { type: 'token_request' }
  | { type: 'sync'; step: SyncStepType; payload: Uint8Array }
  | { type: 'sync_status'; applied: boolean }
  | { type: 'close'; reason: string }
  | { type: 'awareness'; payload: Uint8Array }
  | { type: 'other'; messageType: number }

/** What the server did with an update: acknowledged it, or closed the document with a reason. */
export type UpdateOutcome =
  | { kind: 'acknowledged'; applied: boolean }
  | { kind: 'closed'; reason: string }
  | { kind: 'socket_closed'; code: number; reason: string }

/** Origin of the transactions that apply what the server sent to the client's document. */
export const FROM_SERVER = Symbol('from server')

/**
 * A Hocuspocus client for one document over a plain WebSocket, which sends hand-built byte
 * messages. It keeps `doc` up to date with every document update the server sends, and
 * records every decoded message in `messages`.
 */
export class RawSyncClient {
  readonly messages: ServerMessage[] = []
  /** Code and reason of the WebSocket close, once the socket has closed. */
  socketClose: { code: number; reason: string } | undefined
  /** The server's state vector from its last sync step 1. */
  serverStateVector: Uint8Array | undefined
  private readonly listeners = new Set<() => void>()

  private constructor(
    private readonly socket: WebSocket,
    readonly documentName: string,
    readonly doc: Y.Doc,
  ) {
    socket.on('message', (data: Buffer) => this.receive(new Uint8Array(data)))
    socket.on('close', (code, reason) => {
      this.socketClose = { code, reason: reason.toString() }
      this.notify()
    })
    // Errors such as a reset connection also end in a close event, which the tests inspect.
    socket.on('error', () => {})
  }

  /** Opens a socket to the server's /sync path; the document is not authenticated yet. */
  static async connect(
    baseUrl: string,
    documentName: string,
    doc = new Y.Doc(),
  ): Promise<RawSyncClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/sync`)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return new RawSyncClient(socket, documentName, doc)
  }

  /** Opens a socket and authenticates the document with a bearer token. */
  static async open(
    baseUrl: string,
    documentName: string,
    token: string,
    doc = new Y.Doc(),
  ): Promise<RawSyncClient> {
    const client = await RawSyncClient.connect(baseUrl, documentName, doc)
    const result = await client.authenticate(token)
    if (result !== 'authenticated') {
      client.close()
      throw new Error(`authentication of ${documentName} failed: ${result}`)
    }
    return client
  }

  /**
   * Sends the Auth message and waits for the server's response. Returns 'authenticated', or
   * the reason of the permission denial.
   */
  async authenticate(token: string, providerVersion?: string): Promise<string> {
    const from = this.messages.length
    this.send(MessageType.Auth, (encoder) => {
      encoding.writeVarUint(encoder, AuthType.Token)
      encoding.writeVarString(encoder, token)
      if (providerVersion !== undefined) encoding.writeVarString(encoder, providerVersion)
    })
    const response = await this.waitForMessage(
      (message) => message.type === 'authenticated' || message.type === 'permission_denied',
      from,
      'an answer to the Auth message',
    )
    return response.type === 'permission_denied' ? response.reason : 'authenticated'
  }

  /** Sends the Close message with which a provider detaches from the document. */
  sendClose(): void {
    this.send(MessageType.Close, () => {})
  }

  /** Sends a Sync message with a payload of any bytes. */
  sendSync(step: SyncStepType, payload: Uint8Array): void {
    this.send(MessageType.Sync, (encoder) => {
      encoding.writeVarUint(encoder, step)
      encoding.writeVarUint8Array(encoder, payload)
    })
  }

  /**
   * Sends sync step 1 with the state vector of `doc` and waits for the server's sync step 2,
   * which `doc` then contains. Also records the server's own sync step 1.
   */
  async pull(): Promise<void> {
    const from = this.messages.length
    this.sendSync(SyncStep.Step1, Y.encodeStateVector(this.doc))
    await this.waitForMessage(
      (message) => message.type === 'sync' && message.step === SyncStep.Step1,
      from,
      "the server's sync step 1",
    )
    await this.waitForMessage(
      (message) => message.type === 'sync' && message.step === SyncStep.Step2,
      from,
      "the server's sync step 2",
    )
  }

  /** Sends an update as sync step 2 or as an update message and waits for the outcome. */
  async sendUpdate(
    update: Uint8Array,
    step: SyncStepType = SyncStep.Update,
    timeoutMs = 10_000,
  ): Promise<UpdateOutcome> {
    const from = this.messages.length
    this.sendSync(step, update)
    return this.waitForOutcome(from, timeoutMs)
  }

  /** Waits for the first acknowledgement or close after the message at index `from`. */
  async waitForOutcome(from: number, timeoutMs = 10_000): Promise<UpdateOutcome> {
    const outcome = await this.waitFor(
      () => {
        for (const message of this.messages.slice(from)) {
          if (message.type === 'sync_status') {
            return { kind: 'acknowledged', applied: message.applied } as const
          }
          if (message.type === 'close') return { kind: 'closed', reason: message.reason } as const
        }
        if (this.socketClose) return { kind: 'socket_closed', ...this.socketClose } as const
        return undefined
      },
      'an acknowledgement or a close',
      timeoutMs,
    )
    return outcome
  }

  /** Reasons of every CLOSE message received for the document, in order. */
  get closes(): string[] {
    return this.messages.flatMap((message) => (message.type === 'close' ? [message.reason] : []))
  }

  /** Closes the socket. */
  close(): void {
    this.socket.close()
  }

  /** Waits until the socket has closed. */
  async closed(timeoutMs = 5_000): Promise<void> {
    this.close()
    await this.waitFor(() => this.socketClose, 'the socket to close', timeoutMs)
  }

  /** Waits for a message that matches, at or after index `from`; returns it. */
  waitForMessage<T extends ServerMessage>(
    predicate: (message: ServerMessage) => message is T,
    from: number,
    description: string,
    timeoutMs?: number,
  ): Promise<T>
  waitForMessage(
    predicate: (message: ServerMessage) => boolean,
    from: number,
    description: string,
    timeoutMs?: number,
  ): Promise<ServerMessage>
  waitForMessage(
    predicate: (message: ServerMessage) => boolean,
    from: number,
    description: string,
    timeoutMs = 10_000,
  ): Promise<ServerMessage> {
    return this.waitFor(() => this.messages.slice(from).find(predicate), description, timeoutMs)
  }

  private waitFor<T>(
    find: () => T | undefined,
    description: string,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find()
        if (found === undefined) return false
        cleanup()
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`))
      }, timeoutMs)
      const listener = () => void check()
      const cleanup = () => {
        clearTimeout(timer)
        this.listeners.delete(listener)
      }
      this.listeners.add(listener)
      check()
    })
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }

  /** Sends an awareness update, as encoded by y-protocols' encodeAwarenessUpdate. */
  sendAwareness(update: Uint8Array): void {
    this.send(MessageType.Awareness, (encoder) => encoding.writeVarUint8Array(encoder, update))
  }

  private send(type: number, writePayload: (encoder: encoding.Encoder) => void): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, this.documentName)
    encoding.writeVarUint(encoder, type)
    writePayload(encoder)
    this.socket.send(encoding.toUint8Array(encoder))
  }

  private receive(data: Uint8Array): void {
    const decoder = decoding.createDecoder(data)
    const address = decoding.readVarString(decoder)
    const separator = address.indexOf('\0')
    const documentName = separator < 0 ? address : address.slice(0, separator)
    if (documentName !== this.documentName) return
    const message = decodeServerMessage(decoder)
    if (message.type === 'sync') {
      if (message.step === SyncStep.Step1) this.serverStateVector = message.payload
      else Y.applyUpdate(this.doc, message.payload, FROM_SERVER)
    }
    this.messages.push(message)
    this.notify()
  }
}

function decodeServerMessage(decoder: decoding.Decoder): ServerMessage {
  const messageType = decoding.readVarUint(decoder)
  switch (messageType) {
    case MessageType.Sync:
    case MessageType.SyncReply: {
      const step = decoding.readVarUint(decoder) as SyncStepType
      return { type: 'sync', step, payload: decoding.readVarUint8Array(decoder) }
    }
    case MessageType.Auth: {
      const authType = decoding.readVarUint(decoder)
      if (authType === AuthType.Authenticated) {
        return { type: 'authenticated', scope: decoding.readVarString(decoder) }
      }
      if (authType === AuthType.PermissionDenied) {
        return { type: 'permission_denied', reason: decoding.readVarString(decoder) }
      }
      return { type: 'token_request' }
    }
    case MessageType.SyncStatus:
      return { type: 'sync_status', applied: decoding.readVarUint(decoder) === 1 }
    case MessageType.Close:
      return { type: 'close', reason: decoding.readVarString(decoder) }
    case MessageType.Awareness:
      return { type: 'awareness', payload: decoding.readVarUint8Array(decoder) }
    default:
      return { type: 'other', messageType }
  }
}
