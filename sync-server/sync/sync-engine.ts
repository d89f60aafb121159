import { createRedisExtension } from './redis-extension.ts'
import {
  type Connection,
  type Document,
  Hocuspocus,
  isTransactionOrigin,
  type Extension,
} from '@hocuspocus/server'
import * as Y from 'yjs'
import { type DocumentTarget, parseDocumentName } from '../../shared/document-names.ts'
import type { CloseReason } from '../../shared/errors.ts'
import type { ConversationId } from '../../shared/ids.ts'
import type { Session, SessionStore } from '../auth/sessions.ts'
import { clientValueForLog, type Logger } from '../observability/logger.ts'
import type { Metrics } from '../observability/metrics.ts'
import type { ConversationStore } from '../persistence/conversations.ts'
import type { DocumentStore } from '../persistence/document-store.ts'
import { checkDocumentAccess } from './access.ts'
import { Compactor, compactionDue } from './compactor.ts'
import { ConnectionRegistry } from './connection-registry.ts'
import type { ClientBindings } from './validation/client-bindings.ts'
import { SERVER_OWNER } from './validation/client-bindings.ts'
import { documentRules } from './validation/document-rules.ts'
import { type ValidationResult, validateUpdate } from './validation/validate-update.ts'
import { validateUserDocumentUpdate } from './validation/user-document-rules.ts'
import { UpdateLog } from './update-log.ts'
import { SyncSockets } from './sync-sockets.ts'

/** Largest update one message may carry, in bytes. */
export const MAX_UPDATE_BYTES = 1024 * 1024
/**
 * Largest sync step 2 in bytes. A client sends every change it made offline in that one
 * message, so it may carry hundreds of messages of the maximum size.
 */
export const MAX_SYNC_STEP_BYTES = 8 * 1024 * 1024
/** Delay before an update is stored when durable acknowledgement is off, as Hocuspocus's debounce. */
const UNDURABLE_STORE_DELAY_MS = 2_000
/** WebSocket close code 1012, Service Restart, from the IANA registry of RFC 6455. */
const SERVICE_RESTART = 1012
/** y-protocols sync message types that carry an update. */
const SYNC_STEP_2 = 1
const SYNC_UPDATE = 2

/** Context of an authenticated document connection. */
export interface SyncContext {
  /** Raw session cookie from the upgrade request, kept in memory only. */
  cookieToken?: string
  /** Token this connection authenticated with, kept in memory only to check it again. */
  credential?: string
  userId?: string
  sessionId?: string
}

/** A refusal that Hocuspocus forwards to the client as the reason. */
class Refusal extends Error {
  constructor(readonly reason: CloseReason) {
    super(reason)
  }
}

/** The open history segments, as the validator needs them. */
export interface SegmentSource {
  /** Returns a conversation's open segment, read past any cache when `fresh` is set. */
  openSegment(conversationId: ConversationId, fresh: boolean): Promise<number>
  /** Reports that a client wrote a new message into a closed segment, which was rejected. */
  closedSegmentWritten(conversationId: ConversationId): void
}

export interface SyncEngineOptions {
  sessions: SessionStore
  conversations: ConversationStore
  documents: DocumentStore
  logger: Logger
  metrics: Metrics
  bindings: ClientBindings
  segments: SegmentSource
  redisUrl?: string
  /** Chat features (ChatExtension), registered after the Redis extension. */
  chat?: Extension
  /** Largest update one message may carry, in bytes; MAX_UPDATE_BYTES by default. */
  maxUpdateBytes?: number
  /** Largest sync step 2, in bytes; MAX_SYNC_STEP_BYTES by default, never below maxUpdateBytes. */
  maxSyncStepBytes?: number
  /**
   * Whether an update is acknowledged only once it is committed (the default). Off, updates
   * are stored after a delay like Hocuspocus's debounced store, which the durability test
   * uses to show that it detects loss.
   */
  durableAck?: boolean
  /** Shortest time between the starts of two update log commits, in ms. */
  commitIntervalMs?: number
}

/** The Hocuspocus instance with Parley's hooks, and the stores behind it. */
export class SyncEngine {
  readonly hocuspocus: Hocuspocus<SyncContext>
  readonly registry = new ConnectionRegistry(() => this.hocuspocus.documents.values())
  /** Upgraded sync sockets and their heartbeat. The upgrade handler adds and deletes them. */
  readonly sockets = new SyncSockets()
  readonly updateLog: UpdateLog
  private readonly compactor: Compactor
  /** Binding of the server's client id per loaded document, running or done. */
  private readonly serverClients = new WeakMap<Y.Doc, Promise<void>>()
  /** Connections that have sent their sync step 2, which the larger limit covers once. */
  private readonly syncStepSent = new WeakSet<Connection>()
  private readonly log: Logger

  constructor(private readonly options: SyncEngineOptions) {
    this.log = options.logger.child({ subsystem: 'sync' })
    this.compactor = new Compactor(options.documents, this.log, (name) =>
      this.updateLog.resetCount(name),
    )
    this.updateLog = new UpdateLog(
      options.documents,
      this.log,
      options.metrics,
      (name, since) => {
        if (compactionDue(since.rows, since.bytes, this.compactor.lastSnapshotBytes(name))) {
          this.compactor.schedule(name)
        }
      },
      options.commitIntervalMs,
    )

    const extensions: Extension[] = []
    if (options.redisUrl) extensions.push(createRedisExtension(options.redisUrl, this.log))
    if (options.chat) extensions.push(options.chat)
    this.hocuspocus = new Hocuspocus<SyncContext>({
      name: null,
      quiet: true,
      unloadImmediately: true,
      extensions,
      onAuthenticate: (data) => this.authenticate(data.token, data.context, data.documentName),
      onLoadDocument: (data) => this.load(data.documentName, data.document),
      connected: (data) => this.connected(data.connection, data.context, data.documentName),
      onDisconnect: () => {
        options.metrics.syncConnections.set(this.registry.size)
        return Promise.resolve()
      },
      beforeSync: (data) =>
        this.beforeSync(
          data.documentName,
          data.document,
          data.type,
          data.payload,
          data.context,
          data.connection,
        ),
      onChange: (data) => this.onChange(data.documentName, data.update, data.transactionOrigin),
      beforeUnloadDocument: (data) => {
        // A document with unstored changes stays loaded, so no reader sees it without them.
        if (this.updateLog.hasUnstored(data.documentName)) {
          return Promise.reject(new Error('document has unstored updates'))
        }
        return Promise.resolve()
      },
      afterUnloadDocument: (data) => {
        options.bindings.forget(data.documentName)
        this.compactor.schedule(data.documentName)
        return Promise.resolve()
      },
    })
  }

  /**
   * Stops background work after storing what is queued, waiting at most timeoutMs, then
   * closes the sync sockets.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    const stored = await this.updateLog.drain(timeoutMs)
    if (!stored)
      this.log.error({ event: 'stop_with_unstored_updates' }, 'stopped with unstored updates')
    this.updateLog.close()
    await this.compactor.stop()

    // Hocuspocus 4.7 closes document connections but not sockets, and an upgraded socket
    // that stays open keeps http.Server.close from ever finishing.
    this.sockets.closeAll(SERVICE_RESTART, 'server_restarting')
  }

  private async authenticate(
    token: string,
    context: SyncContext,
    documentName: string,
  ): Promise<SyncContext> {
    const credential = token && token !== 'cookie' ? token : context.cookieToken
    const access = await this.checkAccess(credential, documentName)
    if (!access.ok) throw this.refuse(access.reason, documentName, access.userId)
    return { userId: access.session.userId, sessionId: access.session.id, credential }
  }

  private async connected(
    connection: Connection,
    context: SyncContext,
    documentName: string,
  ): Promise<void> {
    if (!context.userId || !context.sessionId) return
    this.options.metrics.syncConnections.set(this.registry.size)

    // A logout, removal or deletion applied while the document loaded found no connection
    // to close, so access is checked again now that later ones will find this connection.
    const access = await this.checkAccess(context.credential, documentName)
    if (!access.ok) this.registry.close(connection, access.reason)
  }

  /** Checks a credential's session and the access of its user to a document. */
  private async checkAccess(
    credential: string | undefined,
    documentName: string,
  ): Promise<{ ok: true; session: Session } | { ok: false; reason: CloseReason; userId?: string }> {
    try {
      const session = credential ? await this.options.sessions.validate(credential) : undefined
      if (!session) return { ok: false, reason: 'not_authenticated' }
      const access = await checkDocumentAccess(
        this.options.conversations,
        documentName,
        session.userId,
      )
      if (!access.ok) return { ok: false, reason: access.reason, userId: session.userId }
      return { ok: true, session }
    } catch (error) {
      // A database error is temporary, so the client gets the reason to reconnect, not to log in
      // again or to drop its copy as it would for another reason.
      this.log.error(
        { event: 'access_check_failed', documentName: clientValueForLog(documentName), err: error },
        'failed to check document access',
      )
      return { ok: false, reason: 'server_restarting' }
    }
  }

  private async load(documentName: string, document: Document): Promise<void> {
    // The server's client id is bound meanwhile, off the load's path, because only the
    // server's own writes need the binding, and they wait for it.
    this.serverClientBound(documentName, document).catch((error: unknown) =>
      this.log.warn(
        { event: 'server_client_bind_failed', documentName, err: error },
        "failed to bind the server's client id; the next server write tries again",
      ),
    )
    try {
      const parts = await this.options.documents.loadParts(documentName)
      // A stored row that unpacks to bytes that are no Yjs update throws here.
      Y.transact(document, () => {
        for (const part of parts) Y.applyUpdate(document, part)
        for (const update of this.updateLog.unstored(documentName)) {
          Y.applyUpdate(document, update)
        }
      })
    } catch (error) {
      // Refusing here keeps the client from syncing into an empty or partial document that
      // would then be stored over the real history.
      this.log.error(
        { event: 'document_load_failed', documentName, err: error },
        'failed to load a document',
      )
      throw new Refusal('server_restarting')
    }
    // Hocuspocus 4.7 buffers every update of a document for broadcast, this load's as well,
    // and sends the buffer in the next event-loop turn, to the connections that have joined
    // by then. Flushing now, while the document has no connection, keeps the first readers
    // from receiving the whole document a second time after their sync.
    document.flush()
  }

  private async beforeSync(
    documentName: string,
    document: Y.Doc,
    type: number,
    payload: Uint8Array,
    context: SyncContext,
    connection: Connection,
  ): Promise<void> {
    if (type !== SYNC_STEP_2 && type !== SYNC_UPDATE) return
    if (payload.length > this.byteLimit(type, connection)) {
      throw this.refuse('too_large', documentName, context.userId, { bytes: payload.length })
    }
    const writer = context.userId
    if (!writer) throw this.refuse('not_authenticated', documentName)

    const target = parseDocumentName(documentName)
    if (!target) throw this.refuse('forbidden', documentName, writer)
    let result: ValidationResult
    try {
      result = await this.validate(documentName, target, document, payload, writer)
    } catch (error) {
      // A failed database read shows nothing about the update itself. So the
      // client connects again and sends it anew, instead of dropping it as invalid.
      this.log.error(
        { event: 'update_check_failed', documentName, userId: writer, err: error },
        'failed to check an update; the client will send it again',
      )
      throw this.refuse('server_restarting', documentName, writer)
    }
    if (!result.ok) {
      throw this.refuse(result.reason, documentName, writer, result.violation)
    }
    // The update is acknowledged only after this resolves, so an acknowledged update is
    // committed in the database.
    if (!result.novel) return
    if (this.options.durableAck === false) {
      const novel = result.novel
      setTimeout(() => void this.updateLog.append(documentName, novel), UNDURABLE_STORE_DELAY_MS)
      return
    }
    await this.updateLog.append(documentName, result.novel)
  }

  /**
   * Returns the largest payload in bytes of a sync message of this type. Only the first sync
   * step 2 of a connection, the backlog of a reconnecting client, gets the larger limit, so
   * that a client cannot send large updates as repeated sync steps.
   */
  private byteLimit(type: number, connection: Connection): number {
    const update = this.options.maxUpdateBytes ?? MAX_UPDATE_BYTES
    if (type !== SYNC_STEP_2 || this.syncStepSent.has(connection)) return update
    this.syncStepSent.add(connection)
    return Math.max(update, this.options.maxSyncStepBytes ?? MAX_SYNC_STEP_BYTES)
  }

  /** Checks a client's update with the rules of its document. */
  private async validate(
    documentName: string,
    target: DocumentTarget,
    document: Y.Doc,
    payload: Uint8Array,
    writer: string,
  ): Promise<ValidationResult> {
    // A user's private document opens to its owner alone, so it needs the schema check only.
    if (target.kind === 'user') {
      const result = validateUserDocumentUpdate(document, payload)
      return result.ok ? result : { ...result, reason: 'invalid_update' }
    }
    const { conversationId } = target
    const { bindings, segments } = this.options
    const rules = documentRules(documentName, (fresh) =>
      segments.openSegment(conversationId, fresh),
    )
    const result = await validateUpdate(document, documentName, payload, writer, bindings, rules)
    // The client reads the open segment from the live document, which must therefore have it.
    if (!result.ok && result.violation.rule === 'segment_closed') {
      segments.closedSegmentWritten(conversationId)
    }
    return result
  }

  /**
   * Waits until the client id of the server's copy of a loaded document is bound to the
   * server. The server's writes to a document wait for this, so that every item the server
   * creates carries a client id that no client can write with. A failed binding is tried
   * again on the next call.
   */
  serverClientBound(documentName: string, document: Y.Doc): Promise<void> {
    const pending = this.serverClients.get(document)
    if (pending) return pending
    const binding = this.bindServerClient(documentName, document)
    this.serverClients.set(document, binding)
    binding.catch(() => {
      if (this.serverClients.get(document) === binding) this.serverClients.delete(document)
    })
    return binding
  }

  /**
   * Binds the client id of the server's copy of a document to the server, picking another id
   * when a client owns this one already. The server has written nothing with the id yet, so
   * changing it is safe.
   */
  private async bindServerClient(documentName: string, document: Y.Doc): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.options.bindings.bind(
        documentName,
        [document.clientID],
        SERVER_OWNER,
      )
      if (taken.length === 0) return
      document.clientID = Math.floor(Math.random() * 2 ** 31)
    }
    throw new Error(`could not bind a server client id for ${documentName}`)
  }

  private onChange(documentName: string, update: Uint8Array, origin: unknown): Promise<void> {
    // Client updates were stored in beforeSync and Redis ones by the instance that received
    // them; what remains are the server's own writes.
    if (isTransactionOrigin(origin) && origin.source === 'local') {
      void this.updateLog.append(documentName, update)
    }
    return Promise.resolve()
  }

  private refuse(
    reason: CloseReason,
    documentName: string,
    userId?: string,
    detail?: Record<string, unknown>,
  ): Refusal {
    this.options.metrics.syncRefusals.inc({ reason })
    this.log.info({
      event: 'sync_refused',
      reason,
      documentName: clientValueForLog(documentName),
      userId,
      ...detail,
    })
    return new Refusal(reason)
  }
}
