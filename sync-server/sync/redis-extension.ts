import { randomUUID } from 'node:crypto'
import { Redis as RedisSync } from '@hocuspocus/extension-redis'
import {
  type Document,
  isTransactionOrigin,
  MessageType,
  type onAwarenessUpdatePayload,
  type onChangePayload,
  OutgoingMessage,
  type RedisTransactionOrigin,
} from '@hocuspocus/server'
import { Redis } from 'ioredis'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { applyAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { Logger } from '../observability/logger.ts'

/** Key prefix of the extension's channels, its default. */
const CHANNEL_PREFIX = 'hocuspocus'
/**
 * Time in ms after which a document that keeps changing announces its state vector again,
 * so that another instance that missed a relayed update catches up without waiting for a gap.
 */
export const STATE_ANNOUNCE_INTERVAL_MS = 5_000
/** Type number of a Hocuspocus awareness message. */
const AWARENESS_MESSAGE: number = MessageType.Awareness
/** Shortest time in ms between two state requests of one document after relay gaps. */
const GAP_REQUEST_INTERVAL_MS = 1_000

/**
 * The Hocuspocus Redis extension with updates pushed between instances. The extension
 * publishes the document's state vector (sync step 1) on each change. The other instance
 * replies with its own state vector, and the sender replies to that with the update: four
 * messages and two diffs of the whole document per change. Here each change publishes the
 * update itself, merged per event-loop turn, which the other instances apply on arrival.
 * The extension's exchange of state vectors still runs when a document loads, every
 * STATE_ANNOUNCE_INTERVAL_MS while it changes, and when an instance receives an update
 * whose predecessors it lacks, so an update that Redis dropped is repaired.
 */
export class UpdateRelay extends RedisSync {
  private readonly ownIdentifier: string
  private readonly queued = new Map<string, Uint8Array[]>()
  private flushScheduled = false
  private readonly lastAnnounced = new Map<string, number>()
  private readonly lastGapRequest = new Map<string, number>()
  private subscriberConnected = false

  constructor(
    createClient: () => Redis,
    private readonly log: Logger,
  ) {
    const identifier = `host-${randomUUID()}`
    super({ createClient, identifier, prefix: CHANNEL_PREFIX })
    this.ownIdentifier = identifier
    this.sub.on('messageBuffer', this.inspectRelayed)
    this.sub.on('ready', this.announceAfterReconnect)
  }

  override async onChange(data: onChangePayload): Promise<void> {
    const origin: unknown = data.transactionOrigin
    if (isTransactionOrigin(origin) && origin.source === 'redis') return
    const { documentName } = data
    const updates = this.queued.get(documentName)
    if (updates) updates.push(data.update)
    else this.queued.set(documentName, [data.update])
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.publishQueued)
    }

    const now = Date.now()
    if (now - (this.lastAnnounced.get(documentName) ?? 0) < STATE_ANNOUNCE_INTERVAL_MS) return
    this.lastAnnounced.set(documentName, now)
    await super.onChange(data)
  }

  /**
   * Skips the extension's Redis lock around a store, because Parley commits every update to
   * its log before acknowledging it. Each lock cost two Redis round trips.
   */
  override onStoreDocument(): Promise<void> {
    return Promise.resolve()
  }

  /**
   * Skips the extension's one-second wait after storing a server write. Stores of a document
   * run in turn, so each server write kept the document loaded a second longer.
   */
  override afterStoreDocument(): Promise<void> {
    return Promise.resolve()
  }

  /**
   * Publishes the removal of the clients of a connection that closed even when it was the
   * document's last one. The extension publishes nothing for a document without connections,
   * so the other instances kept showing the last client to leave until y-protocols' timeout.
   */
  override async onAwarenessUpdate(data: onAwarenessUpdatePayload): Promise<void> {
    await super.onAwarenessUpdate(data)
    const origin: unknown = data.transactionOrigin
    if (isTransactionOrigin(origin) && origin.source === 'redis') return
    if (data.document.connections.size > 0 || data.removed.length === 0) return
    const message = new OutgoingMessage(data.documentName).createAwarenessUpdateMessage(
      data.awareness,
      data.removed,
    )
    this.publish(data.documentName, message)
  }

  override async afterUnloadDocument(
    data: Parameters<RedisSync['afterUnloadDocument']>[0],
  ): Promise<void> {
    await super.afterUnloadDocument(data)
    if (data.instance.documents.has(data.documentName)) return
    this.lastAnnounced.delete(data.documentName)
    this.lastGapRequest.delete(data.documentName)
  }

  private readonly publishQueued = (): void => {
    this.flushScheduled = false
    const queued = [...this.queued]
    this.queued.clear()
    for (const [documentName, updates] of queued) {
      const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
      const message = new OutgoingMessage(documentName).createSyncMessage().writeUpdate(update)
      this.publish(documentName, message)
    }
  }

  /**
   * Handles what the extension leaves out of a message from another instance. It runs after
   * the extension applied a relayed update, so it can request the state when the update left
   * a gap, and it applies the awareness removals that the extension drops.
   */
  private readonly inspectRelayed = (_channel: Buffer, data: Buffer): void => {
    const identifierLength = data[0] ?? 0
    if (data.toString('utf8', 1, identifierLength + 1) === this.ownIdentifier) return
    let decoder: decoding.Decoder
    let documentName: string
    try {
      decoder = decoding.createDecoder(data.subarray(identifierLength + 1))
      documentName = decoding.readVarString(decoder)
    } catch {
      return
    }
    const document = this.instance.documents.get(documentName)
    if (!document) return
    this.requestStateOnGap(document)
    this.applyRelayedRemovals(document, decoder)
  }

  /**
   * Requests the state of a document from the other instances when an update relayed from them
   * left it with structs whose predecessors are missing, as after a message that Redis
   * dropped during a reconnect.
   */
  private requestStateOnGap(document: Document): void {
    if (!hasGap(document)) return
    const documentName = document.name
    const now = Date.now()
    if (now - (this.lastGapRequest.get(documentName) ?? 0) < GAP_REQUEST_INTERVAL_MS) return
    this.lastGapRequest.set(documentName, now)
    this.log.warn(
      { event: 'relay_gap', documentName },
      'a relayed update lacks earlier updates; requesting the state from the other instances',
    )
    this.requestState(document)
  }

  /**
   * Applies the awareness removals of a relayed message, such as those of a client that
   * disconnected on another instance. Hocuspocus 4.7 passes a relayed awareness update through
   * beforeHandleAwareness and keeps only the clients that still have a state, so it drops
   * every removal, and the client stayed shown, typing included, until y-protocols' 30 s
   * timeout. Only instances publish to Redis, and an instance publishes the removals that
   * its own document applied, so they are applied here without a check.
   */
  private applyRelayedRemovals(document: Document, decoder: decoding.Decoder): void {
    let removals: Uint8Array | undefined
    try {
      if (decoding.readVarUint(decoder) !== AWARENESS_MESSAGE) return
      removals = removalsOf(decoding.readVarUint8Array(decoder))
    } catch {
      return
    }
    if (!removals) return
    const origin: RedisTransactionOrigin = { source: 'redis' }
    applyAwarenessUpdate(document.awareness, removals, origin)
  }

  /** Publishes a document's state vector, to which the other instances reply with what it lacks. */
  private requestState(document: Document): void {
    const message = new OutgoingMessage(document.name)
      .createSyncMessage()
      .writeFirstSyncStepFor(document)
    this.publish(document.name, message)
  }

  /**
   * Announces the state vector of every loaded document once the subscriber has connected
   * again, because what other instances published meanwhile never reached this one. A peer
   * replies with the updates this instance lacks and its own state vector, to which this
   * instance replies in turn, so updates published into the outage reach both sides.
   */
  private readonly announceAfterReconnect = (): void => {
    if (!this.subscriberConnected) {
      this.subscriberConnected = true
      return
    }
    // ioredis subscribes again before it reports ready, and a ping returns after those
    // subscriptions, so no reply is missed.
    this.sub
      .ping()
      .then(() => {
        const documents = [...(this.instance?.documents.values() ?? [])]
        for (const document of documents) this.requestState(document)
        this.log.info(
          { event: 'relay_reconnected', documents: documents.length },
          'reconnected to Redis; requested what other instances published meanwhile',
        )
      })
      .catch((error: unknown) =>
        this.log.error(
          { event: 'relay_announce_failed', err: error },
          'failed to request the documents of other instances after a Redis reconnect',
        ),
      )
  }

  private publish(documentName: string, message: OutgoingMessage): void {
    const prefix = Buffer.from(this.ownIdentifier, 'utf8')
    const payload = Buffer.concat([
      Buffer.from([prefix.length]),
      prefix,
      Buffer.from(message.toUint8Array()),
    ])
    this.pub
      .publish(`${CHANNEL_PREFIX}:${documentName}`, payload)
      .catch((error: unknown) =>
        this.log.error(
          { event: 'relay_publish_failed', documentName, err: error },
          'failed to publish a document update to Redis',
        ),
      )
  }
}

/**
 * Returns an awareness update with only the removals of another, encoded as y-protocols
 * does: a count, then a client id, a clock and the state as JSON, "null" for a removal.
 * Returns undefined when it removes no client.
 */
function removalsOf(update: Uint8Array): Uint8Array | undefined {
  const decoder = decoding.createDecoder(update)
  const removed: { clientId: number; clock: number }[] = []
  const count = decoding.readVarUint(decoder)
  for (let index = 0; index < count; index++) {
    const clientId = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    if (decoding.readVarString(decoder) === 'null') removed.push({ clientId, clock })
  }
  if (removed.length === 0) return undefined
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, removed.length)
  for (const { clientId, clock } of removed) {
    encoding.writeVarUint(encoder, clientId)
    encoding.writeVarUint(encoder, clock)
    encoding.writeVarString(encoder, 'null')
  }
  return encoding.toUint8Array(encoder)
}

/** Returns whether a document has updates that wait for missing predecessors. */
function hasGap(document: Document): boolean {
  return document.store.pendingStructs !== null || document.store.pendingDs !== null
}

/** Creates the Redis relay, which carries updates and awareness between instances. */
export function createRedisExtension(redisUrl: string, logger: Logger): UpdateRelay {
  return new UpdateRelay(() => {
    const client = new Redis(redisUrl)
    client.on('error', (error) =>
      logger.error({ event: 'redis_error', err: error }, 'sync relay Redis error'),
    )
    return client
  }, logger)
}
