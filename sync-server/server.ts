import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { sql } from 'kysely'
import { Redis } from 'ioredis'
import type * as Y from 'yjs'
import { SessionStore } from './auth/sessions.ts'
import type { Config } from './config.ts'
import { createHttpApp } from './http/app.ts'
import type { Services } from './http/services.ts'
import { createLogger, type Logger } from './observability/logger.ts'
import { Metrics } from './observability/metrics.ts'
import { ConversationStore } from './persistence/conversations.ts'
import { openDatabase } from './persistence/database.ts'
import { DocumentStore } from './persistence/document-store.ts'
import { MessageIndex } from './persistence/message-index.ts'
import { SegmentStore } from './persistence/segment-store.ts'
import { UserStore } from './persistence/users.ts'
import { ChatExtension } from './sync/chat-extension.ts'
import { recoverMessageIndex } from './sync/index-recovery.ts'
import { ControlChannel } from './sync/control-channel.ts'
import { OpenSegments } from './sync/open-segments.ts'
import { SyncEngine } from './sync/sync-engine.ts'
import { ClientBindings } from './sync/validation/client-bindings.ts'
import { createUpgradeHandler, frameLimit } from './sync/upgrade.ts'
import { warmUpDocumentCode } from './sync/warm-up.ts'

/** A running Parley server. */
export interface ParleyServer {
  url: string
  port: number
  services: Services
  engine: SyncEngine
  /** Closes connections with server_restarting, stores what is queued, and releases the database. */
  close(): Promise<void>
}

/** Starts Parley: database and migrations, HTTP API, app, and the sync WebSocket on one port. */
export async function startServer(config: Config, logger?: Logger): Promise<ParleyServer> {
  const log = logger ?? createLogger(config.logLevel)
  const metrics = new Metrics()
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onConnectionError: (error) =>
      log.warn({ event: 'database_connection_error', err: error }, 'a database connection failed'),
  })
  const { db } = database
  const sessions = new SessionStore(db)
  const conversations = new ConversationStore(db)
  const documents = new DocumentStore(db)
  const segmentStore = new SegmentStore(db)
  const chat = new ChatExtension({
    conversations,
    messageIndex: new MessageIndex(db),
    segmentStore,
    openSegments: new OpenSegments(segmentStore),
    segmentMessages: config.segmentMessages,
    logger: log,
    // Called only once requests arrive, after the engine below exists.
    hasUnstoredUpdates: (name: string): boolean => engine.updateLog.hasUnstored(name),
    serverClientBound: (name: string, document: Y.Doc): Promise<void> =>
      engine.serverClientBound(name, document),
  })

  const engine = new SyncEngine({
    sessions,
    conversations,
    documents,
    logger: log,
    metrics,
    bindings: new ClientBindings(db),
    segments: chat.segments,
    redisUrl: config.redisUrl,
    chat,
    maxUpdateBytes: config.maxUpdateBytes,
    maxSyncStepBytes: config.maxSyncStepBytes,
    durableAck: config.durableAck,
    commitIntervalMs: config.commitIntervalMs,
  })
  const control = new ControlChannel(engine.registry, log.child({ subsystem: 'control' }))
  if (config.redisUrl) await control.connect(config.redisUrl)
  chat.notifier.useRelay(control)
  const readiness = config.redisUrl ? new Redis(config.redisUrl, { lazyConnect: true }) : undefined
  readiness?.on('error', () => {})

  const services: Services = {
    config,
    db,
    databaseKind: database.kind,
    users: new UserStore(db),
    sessions,
    conversations,
    documents,
    logger: log,
    metrics,
    sync: control,
    chat,
    checkReady: async () => {
      try {
        await sql`select 1`.execute(db)
        if (readiness) await readiness.ping()
        return true
      } catch {
        return false
      }
    },
  }

  const listener = getRequestListener(createHttpApp(services).fetch)
  const server = http.createServer((request, response) => void listener(request, response))
  const upgrade = createUpgradeHandler(
    engine,
    config.publicOrigins,
    log.child({ subsystem: 'upgrade' }),
    frameLimit(config.maxUpdateBytes, config.maxSyncStepBytes),
  )
  server.on('upgrade', (request, socket, head) => upgrade(request, socket, head))
  const warmUpMs = warmUpDocumentCode()
  log.debug({ event: 'document_code_warmed', ms: Math.round(warmUpMs) }, 'warmed up document code')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${hostForUrl}:${port}`
  log.info(
    {
      event: 'server_started',
      url,
      database: database.kind,
      databaseLocation: database.location,
      redis: Boolean(config.redisUrl),
    },
    `Parley is listening on ${url} (database: ${database.kind})`,
  )

  let closing: Promise<void> | undefined
  const recovery = recoverMessageIndex(
    documents,
    chat,
    log.child({ subsystem: 'chat' }),
    () => closing !== undefined,
  )
  const close = () => {
    closing ??= (async () => {
      await recovery
      engine.registry.closeWhere(() => true, 'server_restarting')
      await engine.stop()
      await engine.hocuspocus.hooks('onDestroy', { instance: engine.hocuspocus })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      control.close()
      readiness?.disconnect()
      await database.close()
      log.info({ event: 'server_stopped', url }, 'Parley stopped')
    })()
    return closing
  }
  return { url, port, services, engine, close }
}
