import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { messagesOf, openSegment, readMessage } from '../../shared/chat-document.ts'
import { segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import { LargeWebSocket } from './large-websocket.ts'
import type { Figures } from './protocol.ts'

/** Server address, conversation and token of a ConversationReader. */
export interface ConversationReaderSpec {
  url: string
  conversationId: string
  token: string
}

/**
 * Opens a Parley conversation the way the app does: one socket, the live document first,
 * then the open segment, then older segments one at a time as a reader scrolls back. Each
 * document is synced from an empty Y.Doc, as on a device with no local state.
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
    void this.socket.connect()
    const live = await this.sync(segmentDocumentName(this.id, 0), deadline)
    const syncedMs = performance.now() - started
    let segment = openSegment(live)
    let decoded = 0
    let messages = 0
    for (;;) {
      const doc = segment === 0 ? live : await this.sync(this.segmentName(segment), deadline)
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
