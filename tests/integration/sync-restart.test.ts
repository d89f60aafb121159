import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  listMessages,
  listSystemEvents,
  sendMessage,
  SYSTEM_ROOT,
} from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { COMPACT_MIN_LOG_BYTES } from '../../sync-server/sync/compactor.ts'
import type { Database } from '../../sync-server/persistence/schema.ts'
import { unpackUpdate } from '../../sync-server/persistence/update-codec.ts'
import { SERVER_OWNER } from '../../sync-server/sync/validation/client-bindings.ts'
import {
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { messageTexts } from '../helpers/chat-fixtures.ts'
import { RawSyncClient, SyncStep } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Reads a document's rows with SQL and applies them to a fresh Y.Doc, without DocumentStore. */
async function readStoredDoc(db: Kysely<Database>, name: string) {
  const snapshot = await db
    .selectFrom('documents')
    .select('snapshot')
    .where('name', '=', name)
    .executeTakeFirst()
  const updates = await db
    .selectFrom('document_updates')
    .select(['data', 'codec'])
    .where('name', '=', name)
    .orderBy('seq')
    .execute()
  const doc = new Y.Doc()
  if (snapshot?.snapshot) Y.applyUpdate(doc, snapshot.snapshot)
  for (const row of updates) Y.applyUpdate(doc, unpackUpdate(row.data, row.codec))
  return { doc, hasSnapshot: Boolean(snapshot?.snapshot), updateRows: updates.length }
}

const textsOf = (doc: Y.Doc) => listMessages(doc).map((message) => message.text)

describe.each(['postgres', 'pglite'] as const)('history over a restart on %s', (kind) => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer({ database: kind })
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
    await server.database.drop()
  })

  const open = (token: string, name: string) => {
    const client = openDocument(server.url, token, name)
    clients.push(client)
    return client
  }

  /**
   * Ana and Ben each send `perUser` messages, taking turns, each waiting to see the other's.
   * Each text is padded with `padding` characters.
   */
  const exchange = async (perUser: number, padding = 0) => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)
    const anaClient = open(ana.token, name)
    const benClient = open(ben.token, name)
    await waitForSync(anaClient)
    await waitForSync(benClient)

    for (let turn = 0; turn < perUser; turn++) {
      sendMessage(anaClient.doc, { authorId: ana.user.id, text: textOf('ana', turn, padding) })
      await waitFor(() => textsOf(benClient.doc).length === turn * 2 + 1, `Ben to see ana ${turn}`)
      sendMessage(benClient.doc, { authorId: ben.user.id, text: textOf('ben', turn, padding) })
      await waitFor(() => textsOf(anaClient.doc).length === turn * 2 + 2, `Ana to see ben ${turn}`)
    }
    await waitForAcknowledged(anaClient)
    await waitForAcknowledged(benClient)
    return { ana, ben, name, group, anaClient, benClient }
  }

  const textOf = (author: string, turn: number, padding: number) =>
    `${author} ${turn}${'.'.repeat(padding)}`

  const expectedTexts = (perUser: number, padding = 0) =>
    Array.from({ length: perUser }, (_, turn) => [
      textOf('ana', turn, padding),
      textOf('ben', turn, padding),
    ]).flat()

  it('serves the whole history to a fresh client', async () => {
    const { ben, name, anaClient, benClient } = await exchange(5)
    const liveTexts = textsOf(anaClient.doc)

    // Regression: with these clients still connected, the restart waited forever for their
    // sockets to end.
    await server.restart()
    await waitFor(
      () => anaClient.closes.length > 0 && benClient.closes.length > 0,
      'the restart to close the live clients',
    )
    const fresh = open(ben.token, name)
    await waitForSync(fresh)
    const stored = await readStoredDoc(server.server.services.db, name)

    expect(liveTexts).toEqual(expectedTexts(5))
    expect(textsOf(benClient.doc)).toEqual(liveTexts)
    expect(new Set(anaClient.closes)).toEqual(new Set(['server_restarting']))
    expect(new Set(benClient.closes)).toEqual(new Set(['server_restarting']))
    expect(textsOf(fresh.doc)).toEqual(liveTexts)
    expect(textsOf(stored.doc)).toEqual(liveTexts)
    expect(Y.encodeStateVector(stored.doc)).toEqual(Y.encodeStateVector(fresh.doc))
  })

  it('sends a document loaded from storage once', async () => {
    const { ben, name, anaClient } = await exchange(5)
    const liveTexts = textsOf(anaClient.doc)
    await server.restart()

    const fresh = await RawSyncClient.open(server.url, name, ben.token)
    await fresh.pull()
    // The duplicate, when there was one, followed the sync in the next event-loop turn.
    await new Promise((resolve) => setTimeout(resolve, 300))
    fresh.close()
    const updates = fresh.messages.filter(
      (message) => message.type === 'sync' && message.step === SyncStep.Update,
    )

    expect(textsOf(fresh.doc)).toEqual(liveTexts)
    expect(updates).toEqual([])
  })

  it('binds the client id of server writes after a cold load', async () => {
    const { ana, ben, name, group } = await exchange(2)
    await server.restart()
    const fresh = await RawSyncClient.open(server.url, name, ben.token)
    await fresh.pull()

    // The rename's system event is the server's first write to this copy of the document.
    const renamed = await ana.request('PATCH', `/api/conversations/${group.id}`, {
      title: 'Renamed after restart',
    })
    await waitFor(
      () => listSystemEvents(fresh.doc).some((event) => event.type === 'renamed'),
      'the rename event to reach the client',
    )
    fresh.close()
    const serverClients = new Set<number>()
    for (let item = fresh.doc.getArray(SYSTEM_ROOT)._start; item; item = item.right) {
      serverClients.add(item.id.client)
    }
    const owners = await server.server.services.db
      .selectFrom('client_ids')
      .select(['client_id', 'user_id'])
      .where('document_name', '=', name)
      .execute()
    const ownerOf = new Map(owners.map((row) => [Number(row.client_id), row.user_id]))

    expect(renamed.status).toBe(200)
    expect(serverClients.size).toBeGreaterThan(0)
    for (const client of serverClients) expect(ownerOf.get(client)).toBe(SERVER_OWNER)
  })

  it('keeps the history whole across a compaction', async () => {
    // Each message is one update row of more than 1,000 bytes, so this many turns pass the
    // compaction threshold while the server runs.
    const padding = 1000
    const perUser = Math.ceil(COMPACT_MIN_LOG_BYTES / padding / 2) + 5
    const { ben, name, anaClient } = await exchange(perUser, padding)
    const liveTexts = textsOf(anaClient.doc)

    await server.restart()
    const fresh = open(ben.token, name)
    await waitForSync(fresh)
    const stored = await readStoredDoc(server.server.services.db, name)
    const loadedTexts = messageTexts(await server.server.services.documents.load(name))

    expect(liveTexts).toEqual(expectedTexts(perUser, padding))
    expect(stored.hasSnapshot).toBe(true)
    expect(stored.updateRows).toBeLessThan(perUser * 2)
    expect(textsOf(stored.doc)).toEqual(liveTexts)
    expect(loadedTexts).toEqual(liveTexts)
    expect(textsOf(fresh.doc)).toEqual(liveTexts)
  })
})
