import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { openDatabase, type OpenDatabase } from '../../sync-server/persistence/database.ts'
import { DocumentStore } from '../../sync-server/persistence/document-store.ts'
import { HistorySegments } from '../../sync-server/sync/history-segments.ts'
import { storedTexts } from '../helpers/chat-fixtures.ts'
import {
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

/** Time a refused client gets to send an update that must not be stored. */
const SETTLE_MS = 300

const textsOf = (doc: Y.Doc) => listMessages(doc).map((message) => message.text)
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

/** Creates a group of Ana (admin) and Ben, and stores two messages that Ana sends. */
async function groupWithHistory(server: TestServer, clients: SyncClient[]) {
  const ana = await createApiUser(server.url, 'ana')
  const ben = await createApiUser(server.url, 'ben')
  const name = conversationDocumentName((await createGroup(ana, [ben])).id)
  const writer = openDocument(server.url, ana.token, name)
  clients.push(writer)
  await waitForSync(writer)
  sendMessage(writer.doc, { authorId: ana.user.id, text: 'history 1' })
  sendMessage(writer.doc, { authorId: ana.user.id, text: 'history 2' })
  await waitForAcknowledged(writer)
  return { ana, ben, name, writer }
}

describe('a failed document load', () => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer({ database: 'pglite' })
  })
  afterEach(() => {
    vi.restoreAllMocks()
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  const open = (token: string, name: string) => {
    const client = openDocument(server.url, token, name)
    clients.push(client)
    return client
  }

  it('refuses the client instead of serving an empty document', async () => {
    const { ana, ben, name, writer } = await groupWithHistory(server, clients)
    writer.destroy()
    const hocuspocus = server.server.engine.hocuspocus
    await waitFor(() => !hocuspocus.documents.has(name), 'the server to unload the document')
    const store = server.server.services.documents
    const stateBefore = await store.load(name)
    vi.spyOn(store, 'loadParts').mockRejectedValueOnce(new Error('connection to the database lost'))

    const benDoc = new Y.Doc()
    sendMessage(benDoc, { authorId: ben.user.id, text: 'offline before the refusal' })
    const refused = openDocument(server.url, ben.token, name, benDoc)
    clients.push(refused)
    sendMessage(refused.doc, { authorId: ben.user.id, text: 'sent during the refusal' })
    await waitFor(() => refused.refusals.length > 0, 'the server to refuse the document')
    await settle()
    const stateAfter = await store.load(name)
    const loadedAfterRefusal = hocuspocus.documents.has(name)
    const reader = open(ana.token, name)
    await waitForSync(reader)

    expect(refused.refusals).toEqual(['server_restarting'])
    expect(loadedAfterRefusal).toBe(false)
    expect(textsOf(refused.doc)).toEqual(['offline before the refusal', 'sent during the refusal'])
    expect(Buffer.from(stateAfter ?? [])).toEqual(Buffer.from(stateBefore ?? []))
    expect(textsOf(reader.doc)).toEqual(['history 1', 'history 2'])
    expect(await storedTexts(store, name)).toEqual(['history 1', 'history 2'])
  })
  // Raw DEFLATE has no checksum. A damaged compressed row can therefore unpack to bytes that
  // Yjs cannot read, and the load then refuses the document as for any other load error.
  it('refuses a document with a row that is no Yjs update', async () => {
    const { ana, name, writer } = await groupWithHistory(server, clients)
    writer.destroy()
    const hocuspocus = server.server.engine.hocuspocus
    await waitFor(() => !hocuspocus.documents.has(name), 'the server to unload the document')
    const { db } = server.server.services
    const damaged = await db
      .insertInto('document_updates')
      .values({ name, data: new Uint8Array([1, 1, 1, 0, 31, 0]), codec: 0 })
      .returning('seq')
      .executeTakeFirstOrThrow()

    const refused = openDocument(server.url, ana.token, name)
    clients.push(refused)
    await waitFor(() => refused.refusals.length > 0, 'the server to refuse the document')
    const loadedAfterRefusal = hocuspocus.documents.has(name)
    await db.deleteFrom('document_updates').where('seq', '=', damaged.seq).execute()
    const reader = open(ana.token, name)
    await waitForSync(reader)

    expect(refused.refusals).toEqual(['server_restarting'])
    expect(loadedAfterRefusal).toBe(false)
    expect(textsOf(reader.doc)).toEqual(['history 1', 'history 2'])
  })

  it('closes with server_restarting when an update check fails', async () => {
    const { ana, writer } = await groupWithHistory(server, clients)
    vi.spyOn(HistorySegments.prototype, 'openSegment').mockRejectedValue(
      new Error('connection to the database lost'),
    )

    sendMessage(writer.doc, { authorId: ana.user.id, text: 'checked while the database is away' })
    await waitFor(() => writer.closes.length > 0, 'the server to close the document')

    expect(writer.closes).toEqual(['server_restarting'])
  })
})

describe('a cut database connection', () => {
  let database: TestDatabase
  let proxy: TcpProxy
  let server: TestServer
  let direct: OpenDatabase
  let directStore: DocumentStore
  const clients: SyncClient[] = []

  beforeAll(async () => {
    database = await createPostgresDatabase()
    const target = new URL(database.databaseUrl ?? '')
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432))
    const proxied = new URL(target)
    proxied.host = `127.0.0.1:${proxy.port}`
    server = await startTestServer({ database: { ...database, databaseUrl: proxied.toString() } })
    // Reads that check what is stored go around the proxy.
    direct = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir })
    directStore = new DocumentStore(direct.db)
  })
  afterEach(() => {
    proxy.restore()
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await direct.close()
    await proxy.close()
    await database.drop()
  })

  const open = (token: string, name: string) => {
    const client = openDocument(server.url, token, name)
    clients.push(client)
    return client
  }

  const storeFailures = async () =>
    (await server.server.services.metrics.storeFailures.get()).values[0]?.value ?? 0

  it('retries the write and acknowledges it once stored', async () => {
    const { ana, ben, name, writer } = await groupWithHistory(server, clients)
    const failuresBefore = await storeFailures()

    // The cut resets the pool's idle connections too, so a pg.Pool without an 'error'
    // listener turns it into an uncaught exception that fails this run.
    proxy.cut()
    sendMessage(writer.doc, { authorId: ana.user.id, text: 'written while cut' })
    // After five failures the next retry waits 1.6 s, time for the reader below to come and go.
    await waitFor(
      async () => (await storeFailures()) >= failuresBefore + 5,
      'the server to fail and retry the write',
    )
    const unacknowledgedWhileCut = writer.provider.unsyncedChanges
    const storedWhileCut = await storedTexts(directStore, name)
    const readerWhileCut = open(ben.token, name)
    await waitFor(() => readerWhileCut.refusals.length > 0, 'the server to refuse the reader')
    readerWhileCut.destroy()

    proxy.restore()
    const readerAfterCut = open(ben.token, name)
    await waitForSync(readerAfterCut)
    readerAfterCut.destroy()
    const unacknowledgedAfterReader = writer.provider.unsyncedChanges
    await waitForAcknowledged(writer)
    const fresh = open(ben.token, name)
    await waitForSync(fresh)

    expect(unacknowledgedWhileCut).toBeGreaterThan(0)
    expect(storedWhileCut).toEqual(['history 1', 'history 2'])
    expect(readerWhileCut.refusals).toEqual(['server_restarting'])
    expect(unacknowledgedAfterReader).toBeGreaterThan(0)
    expect(await storedTexts(directStore, name)).toEqual([
      'history 1',
      'history 2',
      'written while cut',
    ])
    expect(textsOf(fresh.doc)).toEqual(['history 1', 'history 2', 'written while cut'])
  })

  it('unloads a left document once stored', async () => {
    const { ana, name, writer } = await groupWithHistory(server, clients)
    const hocuspocus = server.server.engine.hocuspocus
    const failuresBefore = await storeFailures()

    proxy.cut()
    sendMessage(writer.doc, { authorId: ana.user.id, text: 'left while cut' })
    await waitFor(
      async () => (await storeFailures()) > failuresBefore,
      'the server to fail the write',
    )
    writer.destroy()
    // Without Redis, Hocuspocus tries to unload the document as soon as its last client leaves.
    await settle()
    const loadedWhileCut = hocuspocus.documents.has(name)
    proxy.restore()
    await waitFor(() => !hocuspocus.documents.has(name), 'the server to unload the document')

    expect(loadedWhileCut).toBe(true)
    expect(await storedTexts(directStore, name)).toEqual([
      'history 1',
      'history 2',
      'left while cut',
    ])
  })
})
