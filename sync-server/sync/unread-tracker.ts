import { isTransactionOrigin } from '@hocuspocus/server'
import * as Y from 'yjs'
import {
  isReadMarker,
  MAX_MENTIONS,
  messagesOf,
  MODERATION_ROOT,
  READS_ROOT,
  readMessage,
} from '../../shared/chat-document.ts'
import { type ConversationId, ID_PATTERN, type UserId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'
import type { IndexedMessage, MessageIndex, ReadBoundary } from '../persistence/message-index.ts'
import { insertedMaps } from './inserted-maps.ts'

const RETRY_FIRST_MS = 500
const RETRY_MAX_MS = 30_000
/**
 * Time, in ms, during which a read marker on a message not indexed yet is tried again
 * whenever messages of the conversation are indexed on this instance.
 */
const PENDING_READER_MS = 30_000
/**
 * Delay, in ms, before changes relayed from another instance are written to the index. The
 * instance that accepted a change indexes it at once, so the delayed write usually finds
 * every row in place and changes nothing. It covers an instance that stopped before it
 * indexed, and it keeps two instances from inserting the same rows at the same moment.
 */
const RELAYED_DELAY_MS = 2_000
/**
 * Shortest time, in ms, between the starts of two index writes of one document. Under load
 * the messages of this interval go out as one batch row and one commit, which costs the
 * database less CPU and WAL than a row each. Counts move at most this much later, well
 * within the delay of the list notification that informs members (NOTIFY_DELAY_MS).
 */
const WRITE_INTERVAL_MS = 100

/** Dependencies of an UnreadTracker besides its document. */
export interface UnreadTrackerDeps {
  index: MessageIndex
  /** Queues a conversations_changed notification for these users. */
  notify(conversationId: ConversationId, userIds: UserId[]): void
  /** Queues a conversations_changed notification for every member of a conversation. */
  notifyMembers(conversationId: ConversationId): void
  /** Returns this instance's loaded document of a history segment, or undefined. */
  segmentDocument(conversationId: ConversationId, segment: number): Y.Doc | undefined
  /** Reports that a segment document's tracker indexed new or changed messages. */
  indexed(conversationId: ConversationId): void
  log: Logger
}

/** Changes waiting to be written to the index. */
interface PendingWork {
  /** Compare the whole document with the index, as after loading it. */
  reconcile: boolean
  messages: Set<Y.Map<unknown>>
  readers: Set<string>
}

/**
 * Keeps the message index and the read positions of one loaded conversation document up to
 * date: the live document (segment 0) or a history segment. Yjs observers collect the
 * messages and read markers that each transaction changed, whatever its origin: a client, a
 * direct connection, or another instance through Redis. flush then writes them, one write at
 * a time, and notifies the members whose counts moved. Read markers live in the live
 * document, so only its tracker moves read positions, for messages of every segment.
 */
export class UnreadTracker {
  private work: PendingWork = { reconcile: true, messages: new Set(), readers: new Set() }
  /** Changes relayed from another instance, written after RELAYED_DELAY_MS. */
  private relayed: PendingWork = { reconcile: false, messages: new Set(), readers: new Set() }
  private relayedTimer: NodeJS.Timeout | undefined
  private writing = false
  private retryDelayMs = RETRY_FIRST_MS
  private retryTimer: NodeJS.Timeout | undefined
  /** Timer that starts the next write once WRITE_INTERVAL_MS has passed since the last. */
  private intervalTimer: NodeJS.Timeout | undefined
  private lastWriteStarted = Number.NEGATIVE_INFINITY
  private detached = false
  /** Readers whose marker is on a message not indexed yet, with the time they stop waiting. */
  private readonly pendingReaders = new Map<string, number>()

  constructor(
    readonly doc: Y.Doc,
    private readonly conversationId: ConversationId,
    private readonly segment: number,
    private readonly deps: UnreadTrackerDeps,
  ) {
    messagesOf(doc).observeDeep(this.onMessagesChanged)
    if (segment === 0) doc.getMap(READS_ROOT).observe(this.onReadsChanged)
    doc.getMap(MODERATION_ROOT).observe(this.onModerationChanged)
  }

  /** Stops observing. A write in progress still finishes. */
  detach(): void {
    this.detached = true
    clearTimeout(this.retryTimer)
    clearTimeout(this.relayedTimer)
    clearTimeout(this.intervalTimer)
    messagesOf(this.doc).unobserveDeep(this.onMessagesChanged)
    if (this.segment === 0) this.doc.getMap(READS_ROOT).unobserve(this.onReadsChanged)
    this.doc.getMap(MODERATION_ROOT).unobserve(this.onModerationChanged)
  }

  /** Starts writing what changed, unless a write is running, which then picks the changes up. */
  flush(): void {
    if (this.writing || this.retryTimer || this.intervalTimer || !this.hasWork()) return
    const wait = this.lastWriteStarted + WRITE_INTERVAL_MS - performance.now()
    if (wait <= 0) {
      void this.writeLoop()
      return
    }
    this.intervalTimer = setTimeout(() => {
      this.intervalTimer = undefined
      if (!this.detached) this.flush()
    }, wait)
  }

  /**
   * Writes what changed now, without waiting for WRITE_INTERVAL_MS, and resolves once the
   * index contains it, or once a write failed (the retry then goes on in the background).
   */
  async flushNow(): Promise<void> {
    clearTimeout(this.intervalTimer)
    this.intervalTimer = undefined
    this.lastWriteStarted = Number.NEGATIVE_INFINITY
    while (this.writing) await new Promise((resolve) => setTimeout(resolve, 5))
    if (this.retryTimer || !this.hasWork()) return
    await this.writeLoop()
  }

  /** Tries the markers on messages not indexed yet again, after other messages were indexed. */
  retryPendingReaders(): void {
    if (this.takePendingReaders(this.work.readers) > 0) this.flush()
  }

  private readonly onMessagesChanged = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => {
    const messages = messagesOf(this.doc)
    for (const event of events) {
      const work = this.workFor(event.transaction)
      if (event.target === messages) {
        for (const entry of insertedMaps(event.transaction, messages)) work.messages.add(entry)
      } else if (event.target instanceof Y.Map && event.target.parent === messages) {
        work.messages.add(event.target as Y.Map<unknown>)
      }
    }
  }

  private readonly onReadsChanged = (event: Y.YMapEvent<unknown>) => {
    const work = this.workFor(event.transaction)
    for (const userId of event.keysChanged as Set<string>) work.readers.add(userId)
  }

  private readonly onModerationChanged = (event: Y.YMapEvent<unknown>) => {
    // The server's moderation also edits the message map, so this only matters for a
    // moderation record that arrives without that edit.
    const work = this.workFor(event.transaction)
    const wanted = event.keysChanged as Set<string>
    for (const entry of messagesOf(this.doc)) {
      const id: unknown = entry instanceof Y.Map ? entry.get('id') : undefined
      if (typeof id === 'string' && wanted.has(id)) work.messages.add(entry)
    }
  }

  /**
   * Returns the work that collects a transaction's changes: the delayed one for a change
   * relayed from another instance, which starts the delay, else the one that flush writes.
   */
  private workFor(transaction: Y.Transaction): PendingWork {
    const origin: unknown = transaction.origin
    if (!isTransactionOrigin(origin) || origin.source !== 'redis') return this.work
    if (!this.relayedTimer && !this.detached) {
      this.relayedTimer = setTimeout(() => {
        this.relayedTimer = undefined
        for (const entry of this.relayed.messages) this.work.messages.add(entry)
        for (const userId of this.relayed.readers) this.work.readers.add(userId)
        this.relayed = { reconcile: false, messages: new Set(), readers: new Set() }
        this.flush()
      }, RELAYED_DELAY_MS)
    }
    return this.relayed
  }

  private hasWork(): boolean {
    return this.work.reconcile || this.work.messages.size > 0 || this.work.readers.size > 0
  }

  private async writeLoop(): Promise<void> {
    this.writing = true
    try {
      while (this.hasWork()) {
        const wait = this.lastWriteStarted + WRITE_INTERVAL_MS - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        this.lastWriteStarted = performance.now()
        const work = this.work
        this.work = { reconcile: false, messages: new Set(), readers: new Set() }
        try {
          await this.write(work)
          this.retryDelayMs = RETRY_FIRST_MS
        } catch (error) {
          this.retryLater(work, error)
          return
        }
      }
    } finally {
      this.writing = false
    }
  }

  private async write(work: PendingWork): Promise<void> {
    const { index } = this.deps
    const readers = new Set(work.readers)
    let changedMessages = 0

    if (work.reconcile) {
      // The count is read before the messages, so that a document just loaded is sent to
      // its reader before the server reads every message of it.
      const indexed = await index.count(this.conversationId, this.segment)
      const all = this.indexable(messagesOf(this.doc).toArray())
      // A document whose messages are all indexed needs no write. One written before the
      // index existed, or while a write failed, is indexed whole, with its read markers.
      if (indexed !== all.length) {
        changedMessages += await index.upsert(this.conversationId, this.segment, all)
        if (this.segment === 0) {
          for (const userId of this.doc.getMap(READS_ROOT).keys()) readers.add(userId)
        }
      }
    }
    const changed = this.indexable(inDocumentOrder(this.doc, work.messages))
    changedMessages += await index.upsert(this.conversationId, this.segment, changed)
    if (changedMessages > 0) this.takePendingReaders(readers)

    const movedReaders: UserId[] = []
    for (const userId of readers) {
      if (await this.advanceReader(userId)) movedReaders.push(userId as UserId)
    }

    if (changedMessages > 0) {
      this.deps.notifyMembers(this.conversationId)
      if (this.segment > 0) this.deps.indexed(this.conversationId)
    } else if (movedReaders.length > 0) {
      this.deps.notify(this.conversationId, movedReaders)
    }
  }

  /** Moves one member's read position to their marker. Returns whether it moved. */
  private async advanceReader(userId: string): Promise<boolean> {
    if (this.segment !== 0 || !ID_PATTERN.test(userId)) return false
    const marker: unknown = this.doc.getMap(READS_ROOT).get(userId)
    if (!isReadMarker(marker)) return false

    const boundary = await this.readBoundary(marker.messageId)
    if (!boundary) {
      // The message may be on its way into the index from another document's tracker.
      if (!this.pendingReaders.has(userId)) {
        this.pendingReaders.set(userId, Date.now() + PENDING_READER_MS)
      }
      return false
    }
    this.pendingReaders.delete(userId)
    return this.deps.index.advanceReadPosition(this.conversationId, userId, boundary)
  }

  /**
   * Finds where a read marker sits: in the live document, else in the segment that the index
   * names, read from its document when this instance has it loaded. Returns undefined for a
   * message that is not indexed.
   */
  private async readBoundary(messageId: string): Promise<ReadBoundary | undefined> {
    const inLive = laterIdsIn(this.doc, messageId)
    if (inLive) return { segment: 0, laterIds: inLive }
    const located = await this.deps.index.locate(this.conversationId, messageId)
    if (!located) return undefined
    const doc =
      located.segment === 0
        ? undefined
        : this.deps.segmentDocument(this.conversationId, located.segment)
    const laterIds = doc && laterIdsIn(doc, messageId)
    if (laterIds) return { segment: located.segment, laterIds }
    return { segment: located.segment, messageId }
  }

  /** Adds the readers still waiting for their marker's message to a set, and returns how many. */
  private takePendingReaders(readers: Set<string>): number {
    const now = Date.now()
    let added = 0
    for (const [userId, until] of this.pendingReaders) {
      if (until < now) {
        this.pendingReaders.delete(userId)
        continue
      }
      readers.add(userId)
      added++
    }
    return added
  }

  /** Reads message maps into index rows, skipping those whose ids Postgres must not see. */
  private indexable(entries: Iterable<Y.Map<unknown>>): IndexedMessage[] {
    const rows: IndexedMessage[] = []
    const seen = new Set<string>()
    for (const entry of entries) {
      const message = readMessage(entry, this.doc)
      if (!message || seen.has(message.id)) continue
      if (!ID_PATTERN.test(message.id) || !ID_PATTERN.test(message.authorId)) continue
      seen.add(message.id)
      rows.push({
        messageId: message.id,
        authorId: message.authorId,
        mentions: message.mentions.filter((id) => ID_PATTERN.test(id)).slice(0, MAX_MENTIONS),
        deleted: message.deleted || message.moderated !== undefined,
      })
    }
    return rows
  }

  private retryLater(work: PendingWork, error: unknown): void {
    this.deps.log.error(
      {
        event: 'message_index_failed',
        conversationId: this.conversationId,
        retryInMs: this.retryDelayMs,
        err: error,
      },
      'failed to update the message index; retrying',
    )
    this.work.reconcile ||= work.reconcile
    for (const entry of work.messages) this.work.messages.add(entry)
    for (const userId of work.readers) this.work.readers.add(userId)
    if (this.detached) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.flush()
    }, this.retryDelayMs)
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS)
  }
}

/**
 * Returns message maps in the order of the document's messages array. Messages indexed in
 * one write share a batch, and their order in it is their place in the conversation order.
 * So it must be the document's order, because two writers' concurrent messages can arrive
 * in either order.
 */
function inDocumentOrder(doc: Y.Doc, entries: Set<Y.Map<unknown>>): Y.Map<unknown>[] {
  if (entries.size < 2) return [...entries]
  const ordered = new Set<Y.Map<unknown>>()
  for (const entry of messagesOf(doc)) {
    if (entries.has(entry)) ordered.add(entry)
  }
  // A map no longer in the array (only a message deleted whole, which the rules reject)
  // goes last rather than being dropped.
  for (const entry of entries) ordered.add(entry)
  return [...ordered]
}

/**
 * Returns the ids of the messages after a message in a document, or undefined when the
 * document does not have it. Messages are read newest first because a read marker usually
 * points at one of the last.
 */
function laterIdsIn(doc: Y.Doc, messageId: string): string[] | undefined {
  const laterIds: string[] = []
  const messages = messagesOf(doc)
  for (let position = messages.length - 1; position >= 0; position--) {
    const entry: unknown = messages.get(position)
    const id: unknown = entry instanceof Y.Map ? entry.get('id') : undefined
    if (id === messageId) return laterIds
    if (typeof id === 'string') laterIds.push(id)
  }
  return undefined
}
