import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import { LargeWebSocket } from './large-websocket.ts'
import type { ClientSpec } from './protocol.ts'

/** Origin of updates that a raw client applies from its socket. */
const REMOTE = Symbol('remote')
/** Longer than any scenario, so that no provider reconnects on its own for silence. */
const SILENCE_TIMEOUT_MS = 30 * 60_000

/** A client of one kind, reduced to what the scenarios need. */
export interface BenchClient {
  readonly spec: ClientSpec
  readonly doc: Y.Doc
  /** Whether the server acknowledges each update (Hocuspocus sync status messages). */
  readonly acknowledges: boolean
  /** Called once for each update the server acknowledged. */
  onAcknowledged: (() => void) | undefined
  /** Called with the text of each message that arrived from the server. */
  onMessageText: ((text: string) => void) | undefined
  /** Reason the connection failed or closed unexpectedly; undefined while it is open. */
  failure: string | undefined
  /** Opens the connection; resolves once the document is synced with the server. */
  connect(): Promise<void>
  /** Closes the connection on purpose and resolves once it is closed. */
  disconnect(): Promise<void>
  /** Writes a message with sendMessage; returns the size of the update it produced. */
  write(text: string): number
  destroy(): void
}

/** Creates a client of the spec's kind; it connects on connect(). */
export function createBenchClient(spec: ClientSpec): BenchClient {
  switch (spec.kind) {
    case 'raw':
      return new RawClient(spec)
    case 'y-websocket':
      return new YWebsocketClient(spec)
    case 'hocuspocus':
      return new HocuspocusClient(spec)
  }
}

/** Base of every client kind: the document, the message observer and the synced promise. */
abstract class BaseClient {
  readonly doc = new Y.Doc()
  onAcknowledged: (() => void) | undefined
  onMessageText: ((text: string) => void) | undefined
  failure: string | undefined
  protected intentionalClose = false
  private lastLocalUpdateBytes = 0
  private syncWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined

  constructor(readonly spec: ClientSpec) {
    this.doc.on(
      'update',
      (update: Uint8Array, _origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
        if (tr.local) this.lastLocalUpdateBytes = update.length
        else if (this.onMessageText) reportTexts(update, this.onMessageText)
      },
    )
  }

  write(text: string): number {
    this.lastLocalUpdateBytes = 0
    sendMessage(this.doc, { authorId: this.spec.authorId as UserId, text })
    return this.lastLocalUpdateBytes
  }

  protected waitForSync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.syncWaiter = { resolve, reject }
    })
  }

  protected markSynced(): void {
    this.syncWaiter?.resolve()
    this.syncWaiter = undefined
  }

  protected fail(reason: string): void {
    if (this.intentionalClose) return
    this.failure ??= reason
    this.syncWaiter?.reject(new Error(`${this.spec.kind} client of ${this.spec.room}: ${reason}`))
    this.syncWaiter = undefined
  }
}

/** A client of the raw `ws` floor: length-framed Yjs updates, no sync protocol. */
class RawClient extends BaseClient implements BenchClient {
  readonly acknowledges = false
  private socket: LargeWebSocket | undefined

  constructor(spec: ClientSpec) {
    super(spec)
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || !this.socket) return
      const frame = Buffer.allocUnsafe(4 + update.length)
      frame.writeUInt32BE(update.length, 0)
      frame.set(update, 4)
      this.socket.send(frame)
    })
  }

  connect(): Promise<void> {
    this.intentionalClose = false
    const synced = this.waitForSync()
    const socket = new LargeWebSocket(`${this.spec.url}/${this.spec.room}`)
    socket.binaryType = 'nodebuffer'
    socket.on('open', () => this.markSynced())
    socket.on('message', (data: Buffer) => this.applyFrames(data))
    socket.on('close', (code) => this.fail(`closed with code ${code}`))
    socket.on('error', (error) => this.fail(error.message))
    this.socket = socket
    return synced
  }

  disconnect(): Promise<void> {
    this.intentionalClose = true
    const socket = this.socket
    this.socket = undefined
    if (!socket || socket.readyState === LargeWebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      socket.once('close', () => resolve())
      socket.close()
    })
  }

  destroy(): void {
    this.intentionalClose = true
    this.socket?.terminate()
    this.socket = undefined
  }

  /** Applies every update of a frame in one transaction that counts as remote. */
  private applyFrames(data: Buffer): void {
    Y.transact(
      this.doc,
      () => {
        for (let offset = 0; offset + 4 <= data.length;) {
          const length = data.readUInt32BE(offset)
          Y.applyUpdate(this.doc, data.subarray(offset + 4, offset + 4 + length), REMOTE)
          offset += 4 + length
        }
      },
      REMOTE,
      false,
    )
  }
}

/** A y-websocket provider without awareness state and without BroadcastChannel. */
class YWebsocketClient extends BaseClient implements BenchClient {
  readonly acknowledges = false
  private readonly provider: WebsocketProvider

  constructor(spec: ClientSpec) {
    super(spec)
    this.provider = new WebsocketProvider(spec.url, spec.room, this.doc, {
      connect: false,
      // Node 24 has BroadcastChannel, which would carry updates between the clients of this
      // process without the server.
      disableBc: true,
      WebSocketPolyfill: LargeWebSocket as unknown as typeof WebSocket,
    })
    this.provider.awareness.setLocalState(null)
    this.provider.on('sync', (synced: boolean) => {
      if (synced) this.markSynced()
    })
    this.provider.on('connection-close', (event: CloseEvent | null) =>
      this.fail(`closed with code ${event?.code ?? 'unknown'}`),
    )
    this.provider.on('connection-error', () => this.fail('connection error'))
  }

  connect(): Promise<void> {
    this.intentionalClose = false
    const synced = this.waitForSync()
    this.provider.connect()
    return synced
  }

  async disconnect(): Promise<void> {
    this.intentionalClose = true
    this.provider.disconnect()
    await waitForClose(() => this.provider.ws === null)
  }

  destroy(): void {
    this.intentionalClose = true
    this.provider.destroy()
  }
}

/** A Hocuspocus provider with its own socket, a token when Parley needs one, no awareness. */
class HocuspocusClient extends BaseClient implements BenchClient {
  readonly acknowledges = true
  private readonly socket: HocuspocusProviderWebsocket
  private readonly provider: HocuspocusProvider
  private unsynced = 0

  constructor(spec: ClientSpec) {
    super(spec)
    this.socket = new HocuspocusProviderWebsocket({
      url: spec.url,
      WebSocketPolyfill: LargeWebSocket,
      messageReconnectTimeout: SILENCE_TIMEOUT_MS,
      maxAttempts: 1,
      autoConnect: false,
    })
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: spec.room,
      document: this.doc,
      token: spec.token ?? 'bench',
      awareness: null,
      onSynced: ({ state }) => {
        if (state) this.markSynced()
      },
      onAuthenticationFailed: ({ reason }) => this.fail(`authentication failed: ${reason}`),
      onClose: ({ event }) => this.fail(`closed with code ${event.code} ${event.reason}`),
      onUnsyncedChanges: ({ number }) => {
        // Each sync status message from the server lowers the count by one.
        for (let count = number; count < this.unsynced; count++) this.onAcknowledged?.()
        this.unsynced = number
      },
    })
    this.provider.attach()
  }

  connect(): Promise<void> {
    this.intentionalClose = false
    const synced = this.waitForSync()
    void this.socket.connect()
    return synced
  }

  async disconnect(): Promise<void> {
    this.intentionalClose = true
    this.socket.disconnect()
    await waitForClose(
      () => !this.socket.webSocket || this.socket.webSocket.readyState === LargeWebSocket.CLOSED,
    )
  }

  destroy(): void {
    this.intentionalClose = true
    this.provider.destroy()
    this.socket.destroy()
  }
}

/** Maximum wait for a socket to close after close() was called. */
const CLOSE_TIMEOUT_MS = 30_000

async function waitForClose(closed: () => boolean): Promise<void> {
  const deadline = performance.now() + CLOSE_TIMEOUT_MS
  while (!closed()) {
    if (performance.now() > deadline) throw new Error('socket did not close within 30 s')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * Reports the text of each message that a remote update adds. It reads the update, not the
 * document: a YArray event's `changes` walks the whole array, which made each delivery cost
 * time in proportion to the history (18 ms per message at 100k messages).
 */
function reportTexts(update: Uint8Array, report: (text: string) => void): void {
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item) || struct.parentSub !== 'text') continue
    if (!(struct.content instanceof Y.ContentAny)) continue
    const text: unknown = struct.content.arr[0]
    if (typeof text === 'string') report(text)
  }
}
