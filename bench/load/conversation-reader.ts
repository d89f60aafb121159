import http from 'node:http'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { messagesOf, openSegment, readMessage } from '../../shared/chat-document.ts'
import { segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import { LargeWebSocket } from './large-websocket.ts'
import type { Figures } from './protocol.ts'

/** Server addresses, conversation and token of a ConversationReader. */
export interface ConversationReaderSpec {
  /** Sync socket URL. */
  url: string
  /** Base URL of the HTTP API, such as http://127.0.0.1:3000/api. */
  apiUrl: string
  conversationId: string
  token: string
}

/**
 * Opens a Parley conversation the way the app does: one socket, the live document together
 * with the open segment that the API reports, then older segments one at a time as a reader
 * scrolls back. Each document is synced from an empty Y.Doc, as on a device with no local
 * state.
 */
export class ConversationReader {
  private readonly socket: HocuspocusProviderWebsocket
  private readonly providers: HocuspocusProvider[] = []
  /** Oldest segment whose messages are loaded. */
  private oldestLoaded = 0

  constructor(private readonly spec: ConversationReaderSpec) {
    this.socket = new HocuspocusProviderWebsocket({
      url: spec.url,
      WebSocketPolyfill: LargeWebSocket,
      maxAttempts: 1,
      autoConnect: false,
    })
  }

  /**
   * Opens the live document and the segments needed for the newest `newest` messages.
   * Figures: openMs until the newest are decoded, syncedMs until the live document synced,
   * and listMs for reading the conversation from the API before.
   * The newest messages can be decoded before the live document has synced, as the app
   * shows them, but the call returns only once every opened document has synced.
   */
  async open(newest: number, timeoutMs: number): Promise<Figures> {
    // The app opens a conversation from its conversation list, which it fetched before, so
    // this client reads the conversation from the API first and the time starts after it.
    const listStarted = performance.now()
    const listedOpen = await this.listedOpenSegment()
    const listMs = performance.now() - listStarted

    const started = performance.now()
    const deadline = started + timeoutMs
    void this.socket.connect()
    // The open segment is requested first, because it has the newest messages.
    const loaded = new Map<number, Promise<Y.Doc>>()
    if (listedOpen > 0) loaded.set(listedOpen, this.sync(this.segmentName(listedOpen), deadline))
    const liveSynced = this.sync(segmentDocumentName(this.id, 0), deadline)
    loaded.set(0, liveSynced)

    let result = await this.decodeFrom(listedOpen, newest, loaded, deadline)
    const live = await liveSynced
    const syncedMs = performance.now() - started
    // The live document names a newer segment than the list when one opened meanwhile, and
    // the newest messages are then there.
    if (openSegment(live) > listedOpen) {
      result = await this.decodeFrom(openSegment(live), newest, loaded, deadline)
    }
    this.oldestLoaded = result.oldest
    return {
      openMs: result.decodedAt - started,
      syncedMs,
      listMs,
      decoded: result.decoded,
      messagesLoaded: result.messages,
    }
  }

  /**
   * Decodes the newest messages from segment `open` down, syncing each segment not yet
   * requested in `loaded`. Returns the count, the oldest segment read and when it finished.
   */
  private async decodeFrom(
    open: number,
    newest: number,
    loaded: Map<number, Promise<Y.Doc>>,
    deadline: number,
  ): Promise<{ decoded: number; messages: number; oldest: number; decodedAt: number }> {
    let segment = open
    let decoded = 0
    let messages = 0
    for (;;) {
      let synced = loaded.get(segment)
      if (!synced) {
        synced = this.sync(this.segmentName(segment), deadline)
        loaded.set(segment, synced)
      }
      const doc = await synced
      messages += messagesOf(doc).length
      decoded += decodeNewest(doc, newest - decoded)
      if (decoded >= newest || segment === 0) break
      segment--
    }
    return { decoded, messages, oldest: segment, decodedAt: performance.now() }
  }

  /**
   * Scrolls back: opens up to `pages` segments older than those loaded, one at a time, and
   * decodes the newest `newest` of each. Segment 0 is the live document, loaded already, so
   * it is not counted. Figures: pageBackMsMax and pageBackMsMean, absent with no older page.
   */
  async pageBack(pages: number, newest: number, timeoutMs: number): Promise<Figures> {
    const deadline = performance.now() + timeoutMs
    const pageTimes: number[] = []
    while (pageTimes.length < pages && this.oldestLoaded > 1) {
      const started = performance.now()
      this.oldestLoaded--
      decodeNewest(await this.sync(this.segmentName(this.oldestLoaded), deadline), newest)
      pageTimes.push(performance.now() - started)
    }
    if (pageTimes.length === 0) return { pages: 0 }
    return {
      pages: pageTimes.length,
      pageBackMsMax: Math.max(...pageTimes),
      pageBackMsMean: pageTimes.reduce((sum, value) => sum + value, 0) / pageTimes.length,
    }
  }

  /** Closes every provider and the socket. */
  destroy(): void {
    for (const provider of this.providers) provider.destroy()
    this.socket.destroy()
  }

  private get id(): ConversationId {
    return this.spec.conversationId as ConversationId
  }

  /**
   * Reads the open segment from the conversation as the API returns it. node:http rather
   * than fetch, whose first call in a process loads undici and costs the client about 20 ms.
   */
  private listedOpenSegment(): Promise<number> {
    const url = `${this.spec.apiUrl}/conversations/${this.id}`
    const headers = { authorization: `Bearer ${this.spec.token}` }
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers }, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`reading the conversation failed: ${response.statusCode}`))
            return
          }
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            conversation: { openSegment: number }
          }
          resolve(body.conversation.openSegment)
        })
        response.on('error', reject)
      })
      request.on('error', reject)
    })
  }

  private segmentName(segment: number): string {
    return segmentDocumentName(this.id, segment)
  }

  /** Attaches a provider for one document and resolves with the document once synced. */
  private sync(name: string, deadline: number): Promise<Y.Doc> {
    const doc = new Y.Doc()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`opening ${name} timed out`)),
        Math.max(0, deadline - performance.now()),
      )
      const provider = new HocuspocusProvider({
        websocketProvider: this.socket,
        name,
        document: doc,
        token: this.spec.token,
        awareness: null,
        onSynced: ({ state }) => {
          if (!state) return
          clearTimeout(timer)
          resolve(doc)
        },
        onAuthenticationFailed: ({ reason }) => {
          clearTimeout(timer)
          reject(new Error(`opening ${name} failed: ${reason}`))
        },
      })
      this.providers.push(provider)
      provider.attach()
    })
  }
}

/** Reads up to `count` messages from the end of a document; returns how many were valid. */
function decodeNewest(doc: Y.Doc, count: number): number {
  const messages = messagesOf(doc)
  let decoded = 0
  for (let index = messages.length - 1; index >= 0 && decoded < count; index--) {
    if (readMessage(messages.get(index), doc)) decoded++
  }
  return decoded
}
