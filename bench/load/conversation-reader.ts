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
   * Figures: openMs until the newest are decoded, syncedMs until the live document synced.
   */
  async open(newest: number, timeoutMs: number): Promise<Figures> {
    const started = performance.now()
    const deadline = started + timeoutMs
    // The app has the conversation from its list when it opens one; this client asks for it
    // while the socket connects.
    const listed = this.listedOpenSegment()
    void this.socket.connect()
    const liveSynced = this.sync(segmentDocumentName(this.id, 0), deadline)
    const listedOpen = await listed
    const openSynced =
      listedOpen > 0 ? this.sync(this.segmentName(listedOpen), deadline) : liveSynced
    const live = await liveSynced
    const syncedMs = performance.now() - started
    // The live document may name a newer segment than the list, if one opened meanwhile.
    let segment = Math.max(openSegment(live), listedOpen)
    let decoded = 0
    let messages = 0
    for (;;) {
      const doc =
        segment === 0
          ? live
          : segment === listedOpen
            ? await openSynced
            : await this.sync(this.segmentName(segment), deadline)
      messages += messagesOf(doc).length
      decoded += decodeNewest(doc, newest - decoded)
      if (decoded >= newest || segment === 0) break
      segment--
    }
    this.oldestLoaded = segment
    const openMs = performance.now() - started
    return { openMs, syncedMs, decoded, messagesLoaded: messages }
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
